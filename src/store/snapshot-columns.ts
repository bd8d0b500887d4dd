import type { DagRunRecord, TaskInstanceRecord, TaskState, WaitReasonKind } from "../domain";

/**
 * The task columns a run snapshot reads, for both stores: not team, dag_id and run_id, which are always its
 * run's (every insert copies them from the run), so a sweep over 100,000 task instances decodes three
 * strings fewer each.
 */
export const SNAPSHOT_TI_COLUMNS =
  "id, dag_run_id, task_id, map_index, state, try_number, max_tries, operator, pool, pool_slots, priority_weight, " +
  "queued_at, start_date, end_date, last_heartbeat, hostname, pid, executor, note, wait_reason, updated_at";

/** The timestamp columns of SNAPSHOT_TI_COLUMNS: both stores hand them over as epoch milliseconds. */
export const SNAPSHOT_TI_TIMES: ReadonlySet<string> = new Set(["queued_at", "start_date", "end_date", "last_heartbeat", "updated_at"]);

/** The text columns of SNAPSHOT_TI_COLUMNS; the rest are numbers (or timestamps as numbers). */
export const SNAPSHOT_TI_TEXTS: ReadonlySet<string> = new Set([
  "task_id",
  "state",
  "operator",
  "pool",
  "hostname",
  "executor",
  "note",
  "wait_reason",
]);

/** A row of SNAPSHOT_TI_COLUMNS as an array in column order, timestamps in epoch milliseconds. */
export type SnapshotTiValues = [
  id: number,
  dag_run_id: number,
  task_id: string,
  map_index: number,
  state: string,
  try_number: number,
  max_tries: number,
  operator: string,
  pool: string,
  pool_slots: number,
  priority_weight: number,
  queued_at: number | null,
  start_date: number | null,
  end_date: number | null,
  last_heartbeat: number | null,
  hostname: string | null,
  pid: number | null,
  executor: string | null,
  note: string | null,
  wait_reason: string | null,
  updated_at: number,
];

const maybeDate = (ms: number | null) => (ms === null ? null : new Date(ms));

/**
 * One copy of each value the snapshot's repeated text columns hold (states, task ids, operators, pools, executors,
 * hosts, wait reasons): the driver hands out a new string for every cell, and a loop holding 10,000 runs of one DAG
 * kept 100,000 copies of the same ten task ids and a few states. Bounded: past the cap a value is kept as given.
 */
const INTERN_CAP = 100_000;
const interned = new Map<string, string>();
function intern<T extends string | null>(value: T): T {
  if (value === null) return value;
  const kept = interned.get(value);
  if (kept !== undefined) return kept as T;
  if (interned.size < INTERN_CAP) interned.set(value, value);
  return value;
}

/**
 * intern() for one column, answering a value equal to the column's previous one without a lookup: rows come a
 * run at a time, and most columns (state, operator, pool, executor) repeat from row to row, where comparing two
 * short strings costs less than hashing a new one (a tenth of decoding a sweep's 100,000 rows went to intern).
 */
function columnInterner(): <T extends string | null>(value: T) => T {
  let last: string | null = null;
  return <T extends string | null>(value: T): T => {
    if (value === null || value === last) return (value === null ? value : last) as T;
    return (last = intern(value)) as T;
  };
}
const taskIds = columnInterner();
const states = columnInterner();
const operators = columnInterner();
const pools = columnInterner();
const hostnames = columnInterner();
const executors = columnInterner();
const waitReasons = columnInterner();

/** A task instance of a snapshot row; team, dag_id and run_id are the run's. */
export function snapshotTaskInstance(v: SnapshotTiValues, run: DagRunRecord): TaskInstanceRecord {
  return {
    id: v[0],
    dag_run_id: v[1],
    team: run.team,
    dag_id: run.dag_id,
    run_id: run.run_id,
    task_id: taskIds(v[2]),
    map_index: v[3],
    state: states(v[4]) as TaskState,
    try_number: v[5],
    max_tries: v[6],
    operator: operators(v[7]),
    pool: pools(v[8]),
    pool_slots: v[9],
    priority_weight: v[10],
    queued_at: maybeDate(v[11]),
    start_date: maybeDate(v[12]),
    end_date: maybeDate(v[13]),
    last_heartbeat: maybeDate(v[14]),
    hostname: hostnames(v[15]),
    pid: v[16],
    executor: executors(v[17]),
    note: v[18],
    wait_reason: waitReasons(v[19]) as WaitReasonKind | null,
    updated_at: new Date(v[20]),
  };
}
