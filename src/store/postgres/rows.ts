/**
 * Column lists and row → record conversions. The driver already returns Dates for timestamptz, numbers for
 * int8 (see client.ts), booleans and parsed jsonb, so conversions only narrow types.
 */
import type {
  DagRunState,
  DagSpec,
  TaskState,
  WaitReasonKind,
  DagRecord,
  DagRunRecord,
  ImportErrorRecord,
  RunType,
  TaskInstanceRecord,
  UserRecord,
  XComRecord,
} from "../../domain";

export interface DagRow {
  team: string;
  dag_id: string;
  fileloc: string;
  version_id: number;
  spec: DagSpec;
  is_paused: boolean;
  is_active: boolean;
  last_parsed_at: Date;
}
export const DAG_COLUMNS = "d.team, d.dag_id, d.fileloc, d.version_id, v.spec, d.is_paused, d.is_active, d.last_parsed_at";
export const DAG_FROM = "dags d JOIN dag_versions v ON v.id = d.version_id";
export const toDag = (r: DagRow): DagRecord => ({ ...r });

export const toImportError = (r: ImportErrorRecord): ImportErrorRecord => ({ ...r });

export interface DagRunRow extends Omit<DagRunRecord, "run_type" | "state" | "triggering_user_name" | "run_after"> {
  run_type: string;
  state: string;
  triggering_user_name?: string | null;
  run_after?: Date | null;
}
/** `NULL AS <column>` for each of `columns` (a comma list): a row of one branch of a UNION with no such values. */
export const nullsAs = (columns: string): string =>
  columns
    .split(", ")
    .map((c) => `NULL AS ${c}`)
    .join(", ");

export const DAG_RUN_COLUMNS =
  "id, team, dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, conf, version_id, queued_at, start_date, end_date, note, triggering_user_name, run_after";
export const toDagRun = (r: DagRunRow): DagRunRecord => ({
  id: r.id,
  team: r.team,
  dag_id: r.dag_id,
  run_id: r.run_id,
  run_type: r.run_type as RunType,
  state: r.state as DagRunState,
  logical_date: r.logical_date,
  data_interval_start: r.data_interval_start,
  data_interval_end: r.data_interval_end,
  conf: r.conf,
  version_id: r.version_id,
  queued_at: r.queued_at,
  start_date: r.start_date,
  end_date: r.end_date,
  note: r.note,
  // Absent rather than null when no user triggered the run, so a record reads as it did before the column.
  ...(r.triggering_user_name != null && { triggering_user_name: r.triggering_user_name }),
  ...(r.run_after != null && { run_after: r.run_after }),
});

export interface TaskInstanceRow extends Omit<TaskInstanceRecord, "state" | "wait_reason"> {
  state: string;
  wait_reason: string | null;
}
export const TI_COLUMNS =
  "id, dag_run_id, team, dag_id, run_id, task_id, map_index, state, try_number, max_tries, operator, pool, pool_slots, priority_weight, " +
  "queued_at, start_date, end_date, last_heartbeat, hostname, pid, executor, note, wait_reason, updated_at";
/**
 * TI_COLUMNS and the user's note: the API's reads of task instances (lookups, lists). The scheduler's reads stay
 * on TI_COLUMNS, so their statements (a sweep's, a change feed's) are as they were.
 */
export const API_TI_COLUMNS = `${TI_COLUMNS}, user_note`;
export const toTaskInstance = (r: TaskInstanceRow): TaskInstanceRecord => ({
  id: r.id,
  dag_run_id: r.dag_run_id,
  team: r.team,
  dag_id: r.dag_id,
  run_id: r.run_id,
  task_id: r.task_id,
  map_index: r.map_index,
  state: r.state as TaskState,
  try_number: r.try_number,
  max_tries: r.max_tries,
  operator: r.operator,
  pool: r.pool,
  pool_slots: r.pool_slots,
  priority_weight: r.priority_weight,
  queued_at: r.queued_at,
  start_date: r.start_date,
  end_date: r.end_date,
  last_heartbeat: r.last_heartbeat,
  hostname: r.hostname,
  pid: r.pid,
  executor: r.executor,
  note: r.note,
  wait_reason: r.wait_reason as WaitReasonKind | null,
  updated_at: r.updated_at,
});

/**
 * A task instance read by the API (API_TI_COLUMNS), with the user's note. Its own mapper so that toTaskInstance, which
 * every scheduler read runs per row, keeps one object shape and a plain literal (with the note spread in where a read
 * selected it, two alternating pairs of 1,000-task SQLite fan-outs read 0.8-0.9x the rate and ~20% more CPU a task;
 * with this, four pairs were within noise of the round's base).
 */
export const toApiTaskInstance = (r: TaskInstanceRow): TaskInstanceRecord => ({ ...toTaskInstance(r), user_note: r.user_note ?? null });

type RunDates = "logical_date" | "data_interval_start" | "data_interval_end" | "queued_at" | "start_date" | "end_date" | "run_after";
/** A run as `row_to_json` of its DAG_RUN_COLUMNS gives it: timestamps as ISO text, conf as JSON. */
export function runFromJson(text: string): DagRunRecord {
  return runFromJsonValue(JSON.parse(text));
}

/** runFromJson of a value already parsed (a run nested in a larger JSON document: tick-reads.ts). */
export function runFromJsonValue(value: unknown): DagRunRecord {
  const r = value as Omit<DagRunRow, RunDates> & Record<RunDates, string | null>;
  const date = (iso: string | null) => (iso === null ? null : new Date(iso));
  return toDagRun({
    ...r,
    logical_date: date(r.logical_date),
    data_interval_start: date(r.data_interval_start),
    data_interval_end: date(r.data_interval_end),
    queued_at: new Date(r.queued_at as string),
    start_date: date(r.start_date),
    end_date: date(r.end_date),
    run_after: date(r.run_after ?? null),
  });
}

export const XCOM_COLUMNS = "team, dag_id, run_id, task_id, map_index, key, value, timestamp";
export const toXCom = (r: XComRecord): XComRecord => ({ ...r });

export interface UserRow extends Omit<UserRecord, "role"> {
  role: string;
}
export const toUser = (r: UserRow): UserRecord => ({ ...r, role: r.role as UserRecord["role"] });
