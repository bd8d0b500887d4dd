/**
 * WHERE clauses for the API's run and task-instance list filters, shared by both stores: each store
 * supplies its dialect (placeholders, how a date and a list are bound), so one function decides which
 * rows a filter keeps and SQLite and Postgres agree.
 */
import type { NumberRange, TimeRange, DagRunFilter, TaskInstanceFilter, XComFilter } from "../domain";

export interface SqlDialect {
  /** Binds a value and returns its placeholder. */
  param(v: unknown): string;
  /** Binds a list and returns an expression `col` can be tested against: `${col} IN …` / `${col} = ANY(…)`. */
  inList(column: string, values: readonly (string | number)[]): string;
  /** A date as the store keeps it (epoch ms in SQLite, timestamptz in Postgres). */
  date(d: Date): unknown;
  /** Seconds between two date columns. */
  seconds(start: string, end: string): string;
  /** Case-insensitive LIKE with `\` as the escape character. */
  ilike(column: string, pattern: string): string;
  /**
   * Whether a list of one named run names it by the run's id alone (taskInstanceWhere): where an index on
   * dag_run_id holds a run's rows in id order (SQLite, 0025).
   */
  readonly oneRunById?: boolean;
}

/** The run columns behind DagRunResponse's date fields (run_after and updated_at are derived, as serialized). */
const RUN_DATE_COLUMNS = {
  logical_date: "logical_date",
  start_date: "start_date",
  end_date: "end_date",
  run_after: "COALESCE(run_after, logical_date, queued_at)",
  updated_at: "COALESCE(end_date, start_date, queued_at)",
} as const;

const OPS = { gte: ">=", gt: ">", lte: "<=", lt: "<" } as const;

function rangeClauses<T>(column: string, range: Partial<Record<keyof typeof OPS, T>> | undefined, bind: (v: T) => string): string[] {
  if (!range) return [];
  return (Object.keys(OPS) as (keyof typeof OPS)[])
    .filter((k) => range[k] !== undefined)
    .map((k) => `${column} ${OPS[k]} ${bind(range[k]!)}`);
}

const timeClauses = (d: SqlDialect, column: string, range: TimeRange | undefined) =>
  rangeClauses<Date>(column, range, (v) => d.param(d.date(v)));

/** Conditions on dag_runs (unaliased columns) for a run list. */
export function dagRunWhere(d: SqlDialect, f: DagRunFilter): string[] {
  const where: string[] = [];
  if (f.dag_id !== undefined) where.push(`dag_id = ${d.param(f.dag_id)}`);
  if (f.dag_ids) where.push(d.inList("dag_id", f.dag_ids));
  if (f.state) where.push(d.inList("state", f.state));
  if (f.run_type) where.push(d.inList("run_type", f.run_type));
  if (f.run_id_pattern !== undefined) where.push(d.ilike("run_id", f.run_id_pattern));
  if (f.dag_id_pattern !== undefined) where.push(d.ilike("dag_id", f.dag_id_pattern));
  if (f.triggering_user_name_pattern !== undefined) where.push(d.ilike("triggering_user_name", f.triggering_user_name_pattern));
  for (const [field, column] of Object.entries(RUN_DATE_COLUMNS))
    where.push(...timeClauses(d, column, f[field as keyof typeof RUN_DATE_COLUMNS]));
  return where;
}

/**
 * Conditions on `team`'s task instances (unaliased columns); run-level filters go through a subquery on dag_runs.
 *
 * A DAG's runs named (a run's page of task instances, the UI's grid): their rows through the runs' keys,
 * dag_runs (team, dag_id, run_id) then task_instances (dag_run_id, …). Postgres has no index on the task
 * instances' own dag_id and run_id (SQLite has), and otherwise read every task instance of the team per page
 * (40 ms a page at 300,000 of them, growing with the history); the conditions on team, dag_id and run_id stay
 * beside (the same rows). One run where the dialect says `oneRunById` (SQLite): its id alone (a scalar subquery,
 * read once), which says the team, DAG and run, since a task instance's are always its run's; the index on
 * dag_run_id then holds the rows in the lists' default order and the planner has no other index to weigh it
 * against (0025): a page is read up to its end, where all of the run's rows were sorted for every page (2.6-6 ms a
 * page of 100 at 10,000 task instances). Postgres keeps the sort: an index on (dag_run_id, id) there made the bulk
 * writes of task instances 17-30% slower (postgres 0025).
 */
export function taskInstanceWhere(d: SqlDialect, f: TaskInstanceFilter, team: string): string[] {
  const where: string[] = [];
  const runs = namedRuns(f);
  const ofDag = () => `SELECT id FROM dag_runs WHERE team = ${d.param(team)} AND dag_id = ${d.param(f.dag_id)}`;
  if (runs?.length === 1 && d.oneRunById) where.push(`dag_run_id = (${ofDag()} AND run_id = ${d.param(runs[0])})`);
  else {
    where.push(`team = ${d.param(team)}`);
    if (f.dag_id !== undefined) where.push(`dag_id = ${d.param(f.dag_id)}`);
    if (f.run_id !== undefined) where.push(`run_id = ${d.param(f.run_id)}`);
    if (runs) where.push(`dag_run_id IN (${ofDag()} AND ${d.inList("run_id", runs)})`);
  }
  if (f.dag_ids) where.push(d.inList("dag_id", f.dag_ids));
  if (f.run_ids) where.push(d.inList("run_id", f.run_ids));
  if (f.task_id !== undefined) where.push(`task_id = ${d.param(f.task_id)}`);
  if (f.task_ids) where.push(d.inList("task_id", f.task_ids));
  if (f.map_index) where.push(d.inList("map_index", f.map_index));
  if (f.task_id_pattern !== undefined) where.push(d.ilike("task_id", f.task_id_pattern));
  if (f.state) where.push(d.inList("state", f.state));
  if (f.pool) where.push(d.inList("pool", f.pool));
  if (f.executor) where.push(d.inList("executor", f.executor));
  if (f.operator) where.push(d.inList("operator", f.operator));
  if (f.try_number) where.push(d.inList("try_number", f.try_number));
  for (const field of ["start_date", "end_date", "queued_at", "updated_at"] as const) where.push(...timeClauses(d, field, f[field]));
  where.push(...rangeClauses(d.seconds("start_date", "end_date"), f.duration as NumberRange | undefined, (v) => d.param(v)));
  const runWhere = dagRunWhere(d, { logical_date: f.logical_date, run_after: f.run_after });
  if (runWhere.length) where.push(`dag_run_id IN (SELECT id FROM dag_runs WHERE ${runWhere.join(" AND ")})`);
  return where;
}

/** The runs of one DAG a task-instance filter names (its run_id, else its run_ids), or null when it names none. */
export function namedRuns(f: TaskInstanceFilter): string[] | null {
  if (f.dag_id === undefined) return null;
  const runs = f.run_id !== undefined ? [f.run_id] : f.run_ids;
  return runs?.length ? runs : null;
}

/** Conditions on xcom (unaliased); run dates through the run the entry belongs to. */
export function xcomWhere(d: SqlDialect, f: XComFilter): string[] {
  const where: string[] = [];
  for (const field of ["dag_id", "run_id", "task_id", "map_index", "key"] as const)
    if (f[field] !== undefined) where.push(`${field} = ${d.param(f[field])}`);
  if (f.key_pattern !== undefined) where.push(d.ilike("key", f.key_pattern));
  if (f.dag_id_pattern !== undefined) where.push(d.ilike("dag_id", f.dag_id_pattern));
  if (f.run_id_pattern !== undefined) where.push(d.ilike("run_id", f.run_id_pattern));
  if (f.task_id_pattern !== undefined) where.push(d.ilike("task_id", f.task_id_pattern));
  const runWhere = dagRunWhere(d, { logical_date: f.logical_date, run_after: f.run_after });
  if (runWhere.length)
    where.push(
      `EXISTS (SELECT 1 FROM dag_runs r WHERE r.team = xcom.team AND r.dag_id = xcom.dag_id AND r.run_id = xcom.run_id AND ${runWhere.join(" AND ")})`,
    );
  return where;
}

export const whereSql = (where: string[]): string => (where.length ? ` WHERE ${where.join(" AND ")}` : "");
