/** The API's filtered run and task-instance lists on Postgres (conditions from ../list-filters.ts). */
import type { DagRunFilter, DagRunRecord, Page, TaskInstanceFilter, TaskInstanceRecord } from "../../domain";
import { dagRunWhere, namedRuns, taskInstanceWhere, whereSql, type SqlDialect } from "../list-filters";
import { RUN_SORTABLE, TI_SORTABLE } from "../sortable";
import { arrayParam, execute, Params, query, type Db, type Pool } from "./client";
import { pageAndTotal, pgPageClause } from "./list-query";
import { API_TI_COLUMNS, toApiTaskInstance, DAG_RUN_COLUMNS, toDagRun, toTaskInstance, type DagRunRow, type TaskInstanceRow } from "./rows";

export function pgDialect(p: Params): SqlDialect {
  return {
    param: (v) => p.add(v),
    inList: (column, values) =>
      typeof values[0] === "number"
        ? `${column} = ANY(${p.add(arrayParam(values))}::int[])`
        : `${column} = ANY(${p.add(arrayParam(values))}::text[])`,
    date: (d) => d,
    seconds: (start, end) => `EXTRACT(EPOCH FROM (${end} - ${start}))`,
    ilike: (column, pattern) => `${column} ILIKE ${p.add(pattern)} ESCAPE '\\'`,
  };
}

export async function listDagRunsFiltered(db: Db, team: string, filter: DagRunFilter): Promise<Page<DagRunRecord>> {
  const p = new Params();
  const w = whereSql([`team = ${p.add(team)}`, ...dagRunWhere(pgDialect(p), filter)]);
  const filterParams = [...p.values];
  const page = pgPageClause(filter, RUN_SORTABLE, "id", "id", p);
  const { rows, total } = await pageAndTotal<DagRunRow>(
    db,
    [`SELECT ${DAG_RUN_COLUMNS} FROM dag_runs${w}${page}`, p.values],
    [`SELECT count(*)::int AS n FROM dag_runs${w}`, filterParams],
  );
  return { items: rows.map(toDagRun), total };
}

/** The statements of a filtered task-instance list: its page and its total, each with its parameters. Exported for tests (their plans). */
export function taskInstanceListSql(team: string, filter: TaskInstanceFilter): { page: [string, unknown[]]; total: [string, unknown[]] } {
  const p = new Params();
  const w = whereSql(taskInstanceWhere(pgDialect(p), filter, team));
  const filterParams = [...p.values];
  // One run's rows: all have its dag_run_id, which leads the order so that the run's own index serves it.
  const oneRun = namedRuns(filter)?.length === 1;
  const page = pgPageClause(filter, TI_SORTABLE, "id", "id", p, oneRun ? "dag_run_id" : undefined);
  return {
    page: [`SELECT ${API_TI_COLUMNS} FROM task_instances${w}${page}`, p.values],
    total: [`SELECT count(*)::int AS n FROM task_instances${w}`, filterParams],
  };
}

export async function findTaskInstances(db: Db, team: string, filter: TaskInstanceFilter): Promise<Page<TaskInstanceRecord>> {
  const sql = taskInstanceListSql(team, filter);
  const { rows, total } = await pageAndTotal<TaskInstanceRow>(db, sql.page, sql.total);
  return { items: rows.map(toApiTaskInstance), total };
}

/** Deletes the team's run, its task instances (with their logs, by cascade) and its XComs; false when there was none. */
export async function deleteDagRun(pool: Pool, team: string, dagId: string, runId: string): Promise<boolean> {
  return (await pool.begin(async (tx) => {
    const key = [team, dagId, runId];
    const gone = await query<{ id: number }>(tx, "DELETE FROM dag_runs WHERE team = $1 AND dag_id = $2 AND run_id = $3 RETURNING id", key);
    if (gone.length) await execute(tx, "DELETE FROM xcom WHERE team = $1 AND dag_id = $2 AND run_id = $3", key);
    return gone.length > 0;
  })) as boolean;
}

/** The task instances of `ids` (any team: ids come from the caller's own reads) as the API shows them, by id. */
export async function listTaskInstancesByIds(db: Db, ids: readonly number[]): Promise<TaskInstanceRecord[]> {
  if (ids.length === 0) return [];
  const sql = `SELECT ${API_TI_COLUMNS} FROM task_instances WHERE id = ANY($1::bigint[]) ORDER BY id`;
  return (await query<TaskInstanceRow>(db, sql, [arrayParam(ids)])).map(toApiTaskInstance);
}

/** A task instance's earlier tries (task_instance_history, written by a trigger), as records, oldest first. */
export async function listTaskInstanceTries(db: Db, tiId: number): Promise<TaskInstanceRecord[]> {
  const rows = await query<TaskInstanceRow>(db, `${TRIES_SQL} WHERE h.ti_id = $1 ORDER BY h.try_number`, [tiId]);
  return rows.map(toTaskInstance);
}

const TRIES_SQL = `SELECT t.id, t.dag_run_id, t.team, t.dag_id, t.run_id, t.task_id, t.map_index, h.state, h.try_number, h.max_tries, h.operator, h.pool,
  h.pool_slots, h.priority_weight, h.queued_at, h.start_date, h.end_date, NULL AS last_heartbeat, h.hostname, h.pid, h.executor,
  NULL AS note, NULL AS wait_reason, h.updated_at
  FROM task_instance_history h JOIN task_instances t ON t.id = h.ti_id`;
