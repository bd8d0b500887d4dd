/**
 * The audit log (Airflow's event log, GET /api/v2/eventLogs): one row per successful mutating API call —
 * who, when, what (Airflow's event name, e.g. `trigger_dag_run`), which DAG / run / task, and the request's
 * non-secret fields as JSON text in `extra`.
 */

export interface AuditLogEntry {
  /** The team the request acted in (domain/teams.ts); each team reads only its own entries. */
  team: string;
  when: Date;
  event: string;
  /** The user's name; null with `--auth=none`. */
  owner: string | null;
  dag_id: string | null;
  run_id: string | null;
  task_id: string | null;
  map_index: number | null;
  try_number: number | null;
  logical_date: Date | null;
  /** JSON text (Airflow's `extra` is a string), secrets already masked. */
  extra: string | null;
}

export interface AuditLogRecord extends AuditLogEntry {
  id: number;
}

/** GET /eventLogs filters. Patterns are case-insensitive LIKE patterns; before/after bound `when`. */
export interface AuditLogFilter {
  dag_id?: string;
  task_id?: string;
  run_id?: string;
  map_index?: number;
  try_number?: number;
  owner?: string;
  event?: string;
  included_events?: string[];
  excluded_events?: string[];
  before?: Date;
  after?: Date;
  dag_id_pattern?: string;
  task_id_pattern?: string;
  run_id_pattern?: string;
  owner_pattern?: string;
  event_pattern?: string;
  limit?: number;
  offset?: number;
  order_by?: string;
}
