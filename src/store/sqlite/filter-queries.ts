/** The API's filtered run and task-instance lists on SQLite (conditions from ../list-filters.ts). */
import type { Database } from "bun:sqlite";
import type { DagRunFilter, DagRunRecord, Page, TaskInstanceFilter, TaskInstanceRecord } from "../../domain";
import { dagRunWhere, taskInstanceWhere, whereSql, type SqlDialect } from "../list-filters";
import { RUN_SORTABLE, TI_SORTABLE } from "../sortable";
import { pageClause } from "./list-query";
import { API_TI_COLUMNS, toApiTaskInstance, DAG_RUN_COLUMNS, toDagRun, toTaskInstance, type DagRunRow, type TaskInstanceRow } from "./rows";

type Bindable = string | number | null;

export function sqliteDialect(params: Bindable[]): SqlDialect {
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
    oneRunById: true,
  };
}

export function listDagRunsFiltered(db: Database, team: string, filter: DagRunFilter): Page<DagRunRecord> {
  const params: Bindable[] = [];
  const d = sqliteDialect(params);
  const w = whereSql([`team = ${d.param(team)}`, ...dagRunWhere(d, filter)]);
  const page = pageClause(filter, RUN_SORTABLE, "id", "id");
  const rows = db.query(`SELECT ${DAG_RUN_COLUMNS} FROM dag_runs${w}${page.sql}`).all(...params, ...page.params) as DagRunRow[];
  const { n } = db.query(`SELECT count(*) AS n FROM dag_runs${w}`).get(...params) as { n: number };
  return { items: rows.map(toDagRun), total: n };
}

export function findTaskInstances(db: Database, team: string, filter: TaskInstanceFilter): Page<TaskInstanceRecord> {
  const params: Bindable[] = [];
  const d = sqliteDialect(params);
  const w = whereSql(taskInstanceWhere(d, filter, team));
  const page = pageClause(filter, TI_SORTABLE, "id", "id");
  const rows = db.query(`SELECT ${API_TI_COLUMNS} FROM task_instances${w}${page.sql}`).all(...params, ...page.params) as TaskInstanceRow[];
  const { n } = db.query(`SELECT count(*) AS n FROM task_instances${w}`).get(...params) as { n: number };
  return { items: rows.map(toApiTaskInstance), total: n };
}

/** Deletes the team's run, its task instances (with their logs, by cascade) and its XComs; false when there was none. */
export function deleteDagRun(db: Database, team: string, dagId: string, runId: string): boolean {
  return db.transaction(() => {
    const { changes } = db.query("DELETE FROM dag_runs WHERE team = ? AND dag_id = ? AND run_id = ?").run(team, dagId, runId);
    if (changes) db.query("DELETE FROM xcom WHERE team = ? AND dag_id = ? AND run_id = ?").run(team, dagId, runId);
    return changes > 0;
  })();
}

/** The task instances of `ids` (any team: ids come from the caller's own reads) as the API shows them, by id. */
export function listTaskInstancesByIds(db: Database, ids: readonly number[]): TaskInstanceRecord[] {
  if (ids.length === 0) return [];
  const rows = db
    .query(`SELECT ${API_TI_COLUMNS} FROM task_instances WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`)
    .all(JSON.stringify(ids)) as TaskInstanceRow[];
  return rows.map(toApiTaskInstance);
}

/** A task instance's earlier tries (task_instance_history, written by a trigger), as records, oldest first. */
export function listTaskInstanceTries(db: Database, tiId: number): TaskInstanceRecord[] {
  const rows = db.query(`${TRIES_SQL} WHERE h.ti_id = ? ORDER BY h.try_number`).all(tiId) as TaskInstanceRow[];
  return rows.map(toTaskInstance);
}

const TRIES_SQL = `SELECT t.id, t.dag_run_id, t.team, t.dag_id, t.run_id, t.task_id, t.map_index, h.state, h.try_number, h.max_tries, h.operator, h.pool,
  h.pool_slots, h.priority_weight, h.queued_at, h.start_date, h.end_date, NULL AS last_heartbeat, h.hostname, h.pid, h.executor,
  NULL AS note, NULL AS wait_reason, h.updated_at
  FROM task_instance_history h JOIN task_instances t ON t.id = h.ti_id`;
