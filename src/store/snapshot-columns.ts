/**
 * The task columns a run snapshot reads, for both stores: not team, dag_id and run_id, which are always its
 * run's (every insert copies them from the run), so a sweep over 100,000 task instances decodes three
 * strings fewer each.
 */
export const SNAPSHOT_TI_COLUMNS =
  "id, dag_run_id, task_id, map_index, state, try_number, max_tries, operator, pool, pool_slots, priority_weight, " +
  "queued_at, start_date, end_date, last_heartbeat, hostname, pid, executor, note, wait_reason, updated_at";

/** A row of SNAPSHOT_TI_COLUMNS as an array in column order; `Time` is how the store's driver gives a timestamp. */
export type SnapshotTiValues<Time> = [
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
  queued_at: Time | null,
  start_date: Time | null,
  end_date: Time | null,
  last_heartbeat: Time | null,
  hostname: string | null,
  pid: number | null,
  executor: string | null,
  note: string | null,
  wait_reason: string | null,
  updated_at: Time,
];
