-- The audit log behind GET /api/v2/eventLogs (Airflow's `log` table): one row per successful mutating API
-- call. (`event_log` already names the lifecycle event stream of 0008, hence `audit_log`.) `extra` is JSON
-- text with the request's non-secret fields; times are epoch milliseconds like every SQLite table here.
CREATE TABLE audit_log (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  dttm         INTEGER NOT NULL,
  event        TEXT    NOT NULL,
  owner        TEXT,
  dag_id       TEXT,
  run_id       TEXT,
  task_id      TEXT,
  map_index    INTEGER,
  try_number   INTEGER,
  logical_date INTEGER,
  extra        TEXT
);
-- The UI and clients list a DAG's entries newest first, or filter by time.
CREATE INDEX audit_log_dag_dttm ON audit_log (dag_id, dttm);
CREATE INDEX audit_log_dttm ON audit_log (dttm);
