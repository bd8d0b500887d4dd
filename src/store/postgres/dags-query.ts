/** The API's DAG list filters, bulk pause, delete, versions, run-state counts and tags on Postgres (conditions from ../dag-filters.ts). */
import type { DagRecord, ListOptions, Page } from "../../domain";
import type { DagFilter, DagRunStateCount, DagVersionRecord } from "../ports/api-dags";
import { DAG_LATEST_RUN_JOIN, dagOrderBy, dagPaging, dagSortKeys, dagWhere, type DagSqlDialect } from "../dag-filters";
import { whereSql } from "../list-filters";
import { arrayParam, execute, Params, query, type Db, type Pool } from "./client";
import { pageAndTotal, pgPageClause } from "./list-query";
import { DAG_COLUMNS, DAG_FROM, toDag, type DagRow } from "./rows";

function dialect(p: Params): DagSqlDialect {
  return {
    param: (v) => p.add(v),
    inList: (column, values) => `${column} = ANY(${p.add(arrayParam(values))}::text[])`,
    date: (d) => d,
    seconds: (start, end) => `EXTRACT(EPOCH FROM (${end} - ${start}))`,
    ilike: (column, pattern) => `${column} ILIKE ${p.add(pattern)} ESCAPE '\\'`,
    hasTag: (tag) => `${p.add(tag)} = ANY(d.tags)`,
    ownerLike: (pattern) =>
      `EXISTS (SELECT 1 FROM jsonb_array_elements(v.spec->'tasks') t WHERE t->>'owner' ILIKE ${p.add(pattern)} ESCAPE '\\')`,
    bool: (b) => b,
  };
}

/** The team's DAGs matching the filter: `d.team = $n` first, then the shared conditions. */
const teamDagWhere = (team: string, f: DagFilter, p: Params): string => whereSql([`d.team = ${p.add(team)}`, ...dagWhere(dialect(p), f)]);

export async function findDags(db: Db, team: string, f: DagFilter): Promise<Page<DagRecord>> {
  const p = new Params();
  const w = teamDagWhere(team, f, p);
  const filterParams = [...p.values];
  const [limit, offset] = dagPaging(f);
  const from = `${DAG_FROM}${DAG_LATEST_RUN_JOIN}`;
  const { rows, total } = await pageAndTotal<DagRow>(
    db,
    [`SELECT ${DAG_COLUMNS} FROM ${from}${w}${dagOrderBy(dagSortKeys(f))} LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}`, p.values],
    [`SELECT count(*)::int AS n FROM ${from}${w}`, filterParams],
  );
  return { items: rows.map(toDag), total };
}

export async function setDagsPaused(db: Db, team: string, f: DagFilter, paused: boolean): Promise<number> {
  const p = new Params();
  const set = p.add(paused);
  const teamRef = p.add(team);
  const w = whereSql([`d.team = ${teamRef}`, ...dagWhere(dialect(p), f)]);
  return execute(
    db,
    `UPDATE dags SET is_paused = ${set} WHERE team = ${teamRef} AND dag_id IN (SELECT d.dag_id FROM ${DAG_FROM}${DAG_LATEST_RUN_JOIN}${w})`,
    p.values,
  );
}

export async function deleteDag(pool: Pool, team: string, dagId: string): Promise<"deleted" | "not_found" | "running"> {
  return pool.begin(async (tx) => {
    // The row lock keeps a concurrent trigger (which reads the DAG) from adding a run while this deletes.
    if (!(await query(tx, "SELECT 1 FROM dags WHERE team = $1 AND dag_id = $2 FOR UPDATE", [team, dagId])).length)
      return "not_found" as const;
    if (
      (
        await query(tx, "SELECT 1 FROM task_instances WHERE team = $1 AND dag_id = $2 AND state IN ('queued', 'running') LIMIT 1", [
          team,
          dagId,
        ])
      ).length
    )
      return "running" as const;
    // Task instances (and their logs and dispatch attempts) go with their runs by cascade.
    for (const table of ["xcom", "dag_runs", "backfills", "dags", "dag_versions"])
      await execute(tx, `DELETE FROM ${table} WHERE team = $1 AND dag_id = $2`, [team, dagId]);
    return "deleted" as const;
  }) as Promise<"deleted" | "not_found" | "running">;
}

/**
 * A version's number is its rank among its DAG's versions (1, 2, 3 …), as Airflow numbers them; the id is
 * server-wide. Versions go only with their whole DAG, so a number never changes once given.
 */
const VERSION_NUMBER = "(SELECT count(*)::int FROM dag_versions o WHERE o.team = v.team AND o.dag_id = v.dag_id AND o.id <= v.id)";
const VERSION_SORTABLE = { id: "v.id", version_number: VERSION_NUMBER, created_at: "v.created_at" };

export async function listDagVersions(
  db: Db,
  team: string,
  f: ListOptions & { dag_id?: string; version_id?: number; version_number?: number },
): Promise<Page<DagVersionRecord>> {
  const p = new Params();
  const where: string[] = [`v.team = ${p.add(team)}`];
  if (f.dag_id !== undefined) where.push(`v.dag_id = ${p.add(f.dag_id)}`);
  if (f.version_id !== undefined) where.push(`v.id = ${p.add(f.version_id)}`);
  if (f.version_number !== undefined) where.push(`${VERSION_NUMBER} = ${p.add(f.version_number)}`);
  const w = whereSql(where);
  const filterParams = [...p.values];
  const page = pgPageClause(f, VERSION_SORTABLE, "id", "v.id", p);
  const { rows, total } = await pageAndTotal<{ id: number; dag_id: string; created_at: Date; version_number: number }>(
    db,
    [`SELECT v.id, v.dag_id, v.created_at, ${VERSION_NUMBER} AS version_number FROM dag_versions v${w}${page}`, p.values],
    [`SELECT count(*)::int AS n FROM dag_versions v${w}`, filterParams],
  );
  return {
    items: rows.map((r) => ({ version_id: r.id, dag_id: r.dag_id, created_at: new Date(r.created_at), version_number: r.version_number })),
    total,
  };
}

export async function countDagRunStates(db: Db, team: string, dagIds?: string[]): Promise<DagRunStateCount[]> {
  const filter = dagIds ? " AND dag_id = ANY($2::text[])" : "";
  return query<DagRunStateCount>(
    db,
    `SELECT dag_id, state, count(*)::int AS count FROM dag_runs WHERE team = $1${filter} GROUP BY dag_id, state ORDER BY dag_id, state`,
    dagIds ? [team, arrayParam(dagIds)] : [team],
  );
}

/** See DagsQueryStore.latestScheduledLogicalDates: a backward walk of dag_runs_dag_logical_date per DAG, to its first scheduled run. */
export async function latestScheduledLogicalDates(db: Db, team: string, dagIds: readonly string[]): Promise<Map<string, Date>> {
  const latest = new Map<string, Date>();
  if (dagIds.length === 0) return latest;
  const rows = await query<{ dag_id: string; latest: Date | null }>(
    db,
    `SELECT d.dag_id,
       (SELECT r.logical_date FROM dag_runs r
        WHERE r.team = $1 AND r.dag_id = d.dag_id AND r.logical_date IS NOT NULL AND r.run_type = 'scheduled'
        ORDER BY r.logical_date DESC LIMIT 1) AS latest
     FROM unnest($2::text[]) AS d(dag_id)`,
    [team, arrayParam(dagIds)],
  );
  for (const r of rows) if (r.latest != null) latest.set(r.dag_id, new Date(r.latest));
  return latest;
}

export async function listDagTags(db: Db, team: string, opts: ListOptions & { pattern?: string }): Promise<Page<string>> {
  const p = new Params();
  const teamParam = p.add(team);
  const w = opts.pattern !== undefined ? ` AND t.name ILIKE ${p.add(opts.pattern)} ESCAPE '\\'` : "";
  const tags = `SELECT DISTINCT t.name FROM dags d, unnest(d.tags) AS t(name) WHERE d.team = ${teamParam}${w}`;
  const filterParams = [...p.values];
  const page = pgPageClause(opts, { name: 'name COLLATE "C"' }, "name", 'name COLLATE "C"', p);
  const { rows, total } = await pageAndTotal<{ name: string }>(
    db,
    [`SELECT name FROM (${tags}) AS tags${page}`, p.values],
    [`SELECT count(*)::int AS n FROM (${tags}) AS tags`, filterParams],
  );
  return { items: rows.map((r) => r.name), total };
}
