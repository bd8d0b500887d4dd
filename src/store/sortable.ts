/**
 * order_by allow-lists for the list methods, shared by both stores: API field name → SQL column. Both
 * schemas name these columns alike, so one list keeps the accepted fields (and the "order_by accepts …"
 * message, in key order) the same in SQLite and Postgres. `d.` and `p.` are the aliases the dag and pool
 * list queries of both stores use.
 */

/** Allowed order_by fields → SQL column expression. */
export type Sortable = Record<string, string>;

export const DAG_SORTABLE: Sortable = {
  dag_id: "d.dag_id",
  fileloc: "d.fileloc",
  is_paused: "d.is_paused",
  is_active: "d.is_active",
  last_parsed_at: "d.last_parsed_at",
};

export const IMPORT_ERROR_SORTABLE: Sortable = { id: "id", filename: "filename", timestamp: "timestamp" };

export const POOL_SORTABLE: Sortable = { id: "p.id", name: "p.name", pool: "p.name", slots: "p.slots" };

export const RUN_SORTABLE: Sortable = {
  id: "id",
  dag_id: "dag_id",
  run_id: "run_id",
  run_type: "run_type",
  state: "state",
  logical_date: "logical_date",
  data_interval_start: "data_interval_start",
  data_interval_end: "data_interval_end",
  queued_at: "queued_at",
  start_date: "start_date",
  end_date: "end_date",
  // As serialized (list-filters.ts filters it alike): the trigger's run_after, else the logical date, else queued_at.
  run_after: "COALESCE(run_after, logical_date, queued_at)",
};

export const BACKFILL_SORTABLE: Sortable = { id: "id", created_at: "created_at", completed_at: "completed_at" };

/** A TaskInstanceResponse field taken from the task instance's run (the TI queries read `task_instances` unaliased). */
const ofRun = (column: string) => `(SELECT ${column} FROM dag_runs r WHERE r.id = task_instances.dag_run_id)`;

export const TI_SORTABLE: Sortable = {
  id: "id",
  dag_id: "dag_id",
  run_id: "run_id",
  task_id: "task_id",
  state: "state",
  try_number: "try_number",
  operator: "operator",
  max_tries: "max_tries",
  pool: "pool",
  pool_slots: "pool_slots",
  hostname: "hostname",
  executor: "executor",
  priority_weight: "priority_weight",
  queued_at: "queued_at",
  start_date: "start_date",
  end_date: "end_date",
  updated_at: "updated_at",
  // Airflow's other order_by fields. Duration is null until both dates are set, as shown; the difference sorts
  // alike in both stores (epoch ms in SQLite, an interval in Postgres).
  duration: "(end_date - start_date)",
  // Leoflow's rendered map index is the map index as text, null when unmapped: sorted as the number it shows.
  rendered_map_index: "(CASE WHEN map_index < 0 THEN NULL ELSE map_index END)",
  logical_date: ofRun("r.logical_date"),
  // run_after as serialized: the trigger's, else the logical date, else when the run was queued (list-filters.ts).
  run_after: ofRun("COALESCE(r.run_after, r.logical_date, r.queued_at)"),
  data_interval_start: ofRun("r.data_interval_start"),
  data_interval_end: ofRun("r.data_interval_end"),
};

export const VAR_SORTABLE: Sortable = { key: "key", description: "description" };

export const CONN_SORTABLE: Sortable = { connection_id: "connection_id", conn_type: "conn_type", host: "host" };

export const XCOM_SORTABLE: Sortable = { task_id: "task_id", key: "key", map_index: "map_index", timestamp: "timestamp" };

/** The audit log (GET /eventLogs); `event_log_id` and `when` are Airflow's names for id and dttm. */
export const AUDIT_LOG_SORTABLE: Sortable = {
  id: "id",
  event_log_id: "id",
  when: "dttm",
  dttm: "dttm",
  dag_id: "dag_id",
  task_id: "task_id",
  run_id: "run_id",
  event: "event",
  owner: "owner",
  logical_date: "logical_date",
  map_index: "map_index",
  try_number: "try_number",
};
