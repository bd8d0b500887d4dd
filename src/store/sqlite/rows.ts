/** Conversions between SQLite column values (epoch ms, 0/1, JSON text) and the Store's record types. */
import type {
  DagSpec,
  DagRecord,
  DagRunRecord,
  ImportErrorRecord,
  RunType,
  TaskInstanceRecord,
  UserRecord,
  XComRecord,
} from "../../domain";
import type { DagRunState, TaskState, WaitReasonKind } from "../../domain";

export const ms = (d: Date | null | undefined): number | null => (d == null ? null : d.getTime());
export const date = (v: number | null): Date | null => (v == null ? null : new Date(v));

export interface DagRow {
  team: string;
  dag_id: string;
  fileloc: string;
  version_id: number;
  spec: string;
  is_paused: number;
  is_active: number;
  last_parsed_at: number;
}
export const DAG_COLUMNS = "d.team, d.dag_id, d.fileloc, d.version_id, v.spec, d.is_paused, d.is_active, d.last_parsed_at";
export const DAG_FROM = "dags d JOIN dag_versions v ON v.id = d.version_id";

export const toDagHead = (r: Omit<DagRow, "spec">): Omit<DagRecord, "spec"> => ({
  team: r.team,
  dag_id: r.dag_id,
  fileloc: r.fileloc,
  version_id: r.version_id,
  is_paused: r.is_paused === 1,
  is_active: r.is_active === 1,
  last_parsed_at: new Date(r.last_parsed_at),
});

export const toDag = (r: DagRow): DagRecord => ({ ...toDagHead(r), spec: JSON.parse(r.spec) as DagSpec });

export interface ImportErrorRow {
  id: number;
  team: string;
  filename: string;
  stack_trace: string;
  timestamp: number;
}
export const toImportError = (r: ImportErrorRow): ImportErrorRecord => ({ ...r, timestamp: new Date(r.timestamp) });

export interface DagRunRow {
  id: number;
  team: string;
  dag_id: string;
  run_id: string;
  run_type: string;
  state: string;
  logical_date: number | null;
  data_interval_start: number | null;
  data_interval_end: number | null;
  conf: string;
  version_id: number;
  queued_at: number;
  start_date: number | null;
  end_date: number | null;
  note: string | null;
  triggering_user_name?: string | null;
  run_after?: number | null;
}
export const DAG_RUN_COLUMNS =
  "id, team, dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, conf, version_id, queued_at, start_date, end_date, note, triggering_user_name, run_after";

export const toDagRun = (r: DagRunRow): DagRunRecord => ({
  id: r.id,
  team: r.team,
  dag_id: r.dag_id,
  run_id: r.run_id,
  run_type: r.run_type as RunType,
  state: r.state as DagRunState,
  logical_date: date(r.logical_date),
  data_interval_start: date(r.data_interval_start),
  data_interval_end: date(r.data_interval_end),
  conf: JSON.parse(r.conf) as Record<string, unknown>,
  version_id: r.version_id,
  queued_at: new Date(r.queued_at),
  start_date: date(r.start_date),
  end_date: date(r.end_date),
  note: r.note,
  // Absent rather than null when no user triggered the run, so a record reads as it did before the column.
  ...(r.triggering_user_name != null && { triggering_user_name: r.triggering_user_name }),
  ...(r.run_after != null && { run_after: new Date(r.run_after) }),
});

export interface TaskInstanceRow {
  id: number;
  dag_run_id: number;
  team: string;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  state: string;
  try_number: number;
  max_tries: number;
  operator: string;
  pool: string;
  pool_slots: number;
  priority_weight: number;
  queued_at: number | null;
  start_date: number | null;
  end_date: number | null;
  last_heartbeat: number | null;
  hostname: string | null;
  pid: number | null;
  executor: string | null;
  note: string | null;
  user_note?: string | null;
  wait_reason: string | null;
  updated_at: number;
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
  queued_at: date(r.queued_at),
  start_date: date(r.start_date),
  end_date: date(r.end_date),
  last_heartbeat: date(r.last_heartbeat),
  hostname: r.hostname,
  pid: r.pid,
  executor: r.executor,
  note: r.note,
  wait_reason: r.wait_reason as WaitReasonKind | null,
  updated_at: new Date(r.updated_at),
});

/**
 * A task instance read by the API (API_TI_COLUMNS), with the user's note. Its own mapper so that toTaskInstance, which
 * every scheduler read runs per row, keeps one object shape and a plain literal (with the note spread in where a read
 * selected it, two alternating pairs of 1,000-task SQLite fan-outs read 0.8-0.9x the rate and ~20% more CPU a task;
 * with this, four pairs were within noise of the round's base).
 */
export const toApiTaskInstance = (r: TaskInstanceRow): TaskInstanceRecord => ({ ...toTaskInstance(r), user_note: r.user_note ?? null });

export { SNAPSHOT_TI_COLUMNS, snapshotTaskInstance, type SnapshotTiValues } from "../snapshot-columns";

export interface XComRow {
  team: string;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  key: string;
  value: string;
  timestamp: number;
}
export const toXCom = (r: XComRow): XComRecord => ({
  ...r,
  value: JSON.parse(r.value) as unknown,
  timestamp: new Date(r.timestamp),
});

export interface UserRow {
  username: string;
  password_hash: string;
  role: string;
  created_at: number;
}
export const toUser = (r: UserRow): UserRecord => ({
  username: r.username,
  password_hash: r.password_hash,
  role: r.role as UserRecord["role"],
  created_at: new Date(r.created_at),
});
