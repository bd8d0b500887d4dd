/** The API's DAG list filters, bulk pause, delete, versions, run-state counts and tags on SQLite (conditions from ../dag-filters.ts). */
import type { Database } from "bun:sqlite";
import { indexedState } from "./partial-index-terms";
import type { DagRecord, ListOptions, Page } from "../../domain";
import type { DagFilter, DagRunStateCount, DagVersionRecord } from "../ports/api-dags";
import { DAG_LATEST_RUN_JOIN, dagOrderBy, dagPaging, dagSortKeys, dagWhere, type DagSqlDialect } from "../dag-filters";
import { whereSql } from "../list-filters";
import { pageClause } from "./list-query";
import { DAG_COLUMNS, DAG_FROM, toDag, type DagRow } from "./rows";

type Bindable = string | number | null;

function dialect(params: Bindable[]): DagSqlDialect {
  const param = (v: unknown) => {
    params.push(v as Bindable);
    return "?";
  };
  return {
    param,
    inList: (column, values) => `${column} IN (SELECT value FROM json_each(${param(JSON.stringify(values))}))`,
    date: (d) => d.getTime(),
    seconds: (start, end) => `((${end} - ${start}) / 1000.0)`,
    // SQLite's LIKE is already case-insensitive for ASCII.
    ilike: (column, pattern) => `${column} LIKE ${param(pattern)} ESCAPE '\\'`,
    hasTag: (tag) => `EXISTS (SELECT 1 FROM json_each(d.tags) t WHERE t.value = ${param(tag)})`,
    ownerLike: (pattern) =>
      `EXISTS (SELECT 1 FROM json_each(v.spec, '$.tasks') t WHERE json_extract(t.value, '$.owner') LIKE ${param(pattern)} ESCAPE '\\')`,
    bool: (b) => (b ? 1 : 0),
  };
}

/** The team's DAGs matching the filter: `d.team = ?` first, then the shared conditions. */
function teamDagWhere(team: string, f: DagFilter, params: Bindable[]): string {
  params.push(team);
  return whereSql(["d.team = ?", ...dagWhere(dialect(params), f)]);
}

export function findDags(db: Database, team: string, f: DagFilter): Page<DagRecord> {
  const params: Bindable[] = [];
  const w = teamDagWhere(team, f, params);
  const from = `${DAG_FROM}${DAG_LATEST_RUN_JOIN}`;
  const rows = db
    .query(`SELECT ${DAG_COLUMNS} FROM ${from}${w}${dagOrderBy(dagSortKeys(f))} LIMIT ? OFFSET ?`)
    .all(...params, ...dagPaging(f)) as DagRow[];
  const { n } = db.query(`SELECT count(*) AS n FROM ${from}${w}`).get(...params) as { n: number };
  return { items: rows.map(toDag), total: n };
}

export function setDagsPaused(db: Database, team: string, f: DagFilter, paused: boolean): number {
  const params: Bindable[] = [];
  const w = teamDagWhere(team, f, params);
  const { changes } = db
    .query(`UPDATE dags SET is_paused = ? WHERE team = ? AND dag_id IN (SELECT d.dag_id FROM ${DAG_FROM}${DAG_LATEST_RUN_JOIN}${w})`)
    .run(paused ? 1 : 0, team, ...params);
  return changes;
}

export function deleteDag(db: Database, team: string, dagId: string): "deleted" | "not_found" | "running" {
  return db
    .transaction(() => {
      if (!db.query("SELECT 1 FROM dags WHERE team = ? AND dag_id = ?").get(team, dagId)) return "not_found" as const;
      if (
        db
          .query(
            `SELECT 1 FROM task_instances WHERE team = ? AND dag_id = ? AND state IN ('queued', 'running') AND ${indexedState()} LIMIT 1`,
          )
          .get(team, dagId)
      )
        return "running" as const;
      // Task instances (and their logs and dispatch attempts) go with their runs by cascade.
      for (const table of ["xcom", "dag_runs", "backfills", "dags", "dag_versions"])
        db.query(`DELETE FROM ${table} WHERE team = ? AND dag_id = ?`).run(team, dagId);
      return "deleted" as const;
    })
    .immediate();
}

/**
 * A version's number is its rank among its DAG's versions (1, 2, 3 …), as Airflow numbers them; the id is
 * server-wide. Versions go only with their whole DAG, so a number never changes once given. The count reads
 * only the (team, dag_id, hash) index, whose entries carry the id (the rowid), never the specs.
 */
const VERSION_NUMBER = "(SELECT count(*) FROM dag_versions o WHERE o.team = v.team AND o.dag_id = v.dag_id AND o.id <= v.id)";
const VERSION_SORTABLE = { id: "v.id", version_number: VERSION_NUMBER, created_at: "v.created_at" };

export function listDagVersions(
  db: Database,
  team: string,
  f: ListOptions & { dag_id?: string; version_id?: number; version_number?: number },
): Page<DagVersionRecord> {
  const where: string[] = ["v.team = ?"];
  const params: Bindable[] = [team];
  if (f.dag_id !== undefined) {
    where.push("v.dag_id = ?");
    params.push(f.dag_id);
  }
  if (f.version_id !== undefined) {
    where.push("v.id = ?");
    params.push(f.version_id);
  }
  if (f.version_number !== undefined) {
    where.push(`${VERSION_NUMBER} = ?`);
    params.push(f.version_number);
  }
  const w = whereSql(where);
  const page = pageClause(f, VERSION_SORTABLE, "id", "v.id");
  const rows = db
    .query(`SELECT v.id, v.dag_id, v.created_at, ${VERSION_NUMBER} AS version_number FROM dag_versions v${w}${page.sql}`)
    .all(...params, ...page.params) as { id: number; dag_id: string; created_at: number; version_number: number }[];
  const { n } = db.query(`SELECT count(*) AS n FROM dag_versions v${w}`).get(...params) as { n: number };
  return {
    items: rows.map((r) => ({ version_id: r.id, dag_id: r.dag_id, created_at: new Date(r.created_at), version_number: r.version_number })),
    total: n,
  };
}

export function countDagRunStates(db: Database, team: string, dagIds?: string[]): DagRunStateCount[] {
  const filter = dagIds ? " AND dag_id IN (SELECT value FROM json_each(?))" : "";
  return db
    .query(`SELECT dag_id, state, count(*) AS count FROM dag_runs WHERE team = ?${filter} GROUP BY dag_id, state ORDER BY dag_id, state`)
    .all(team, ...(dagIds ? [JSON.stringify(dagIds)] : [])) as DagRunStateCount[];
}

/** See DagsQueryStore.latestScheduledLogicalDates: a backward walk of dag_runs_dag_logical_date per DAG, to its first scheduled run. */
export function latestScheduledLogicalDates(db: Database, team: string, dagIds: readonly string[]): Map<string, Date> {
  const latest = new Map<string, Date>();
  if (dagIds.length === 0) return latest;
  const rows = db
    .query(
      `SELECT d.value AS dag_id,
         (SELECT r.logical_date FROM dag_runs r
          WHERE r.team = ?1 AND r.dag_id = d.value AND r.logical_date IS NOT NULL AND r.run_type = 'scheduled'
          ORDER BY r.logical_date DESC LIMIT 1) AS latest
       FROM json_each(?2) d`,
    )
    .all(team, JSON.stringify(dagIds)) as { dag_id: string; latest: number | null }[];
  for (const r of rows) if (r.latest != null) latest.set(r.dag_id, new Date(r.latest));
  return latest;
}

export function listDagTags(db: Database, team: string, opts: ListOptions & { pattern?: string }): Page<string> {
  const params: Bindable[] = [team];
  const w = opts.pattern !== undefined ? " AND t.value LIKE ? ESCAPE '\\'" : "";
  if (opts.pattern !== undefined) params.push(opts.pattern);
  const tags = `SELECT DISTINCT t.value AS name FROM dags d, json_each(d.tags) t WHERE d.team = ?${w}`;
  const page = pageClause(opts, { name: "name" }, "name", "name");
  const rows = db.query(`SELECT name FROM (${tags})${page.sql}`).all(...params, ...page.params) as { name: string }[];
  const { n } = db.query(`SELECT count(*) AS n FROM (${tags})`).get(...params) as { n: number };
  return { items: rows.map((r) => r.name), total: n };
}
