-- One row per finished try of a task instance (Airflow's task_instance_history), for GET …/tries. A trigger
-- writes it when try_number moves on (a retry or a clear starts the next try), so no code path that
-- changes tries can forget it; a try that never got past queued is not a try anyone ran, and is skipped.
CREATE TABLE task_instance_history (
  ti_id           INTEGER NOT NULL REFERENCES task_instances (id) ON DELETE CASCADE,
  try_number      INTEGER NOT NULL,
  state           TEXT    NOT NULL,
  max_tries       INTEGER NOT NULL,
  operator        TEXT    NOT NULL,
  pool            TEXT    NOT NULL,
  pool_slots      INTEGER NOT NULL,
  priority_weight INTEGER NOT NULL,
  queued_at       INTEGER,
  start_date      INTEGER,
  end_date        INTEGER,
  hostname        TEXT,
  pid             INTEGER,
  executor        TEXT,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (ti_id, try_number)
);

CREATE TRIGGER task_instance_history_on_next_try AFTER UPDATE OF try_number ON task_instances
WHEN NEW.try_number <> OLD.try_number AND OLD.state NOT IN ('none', 'scheduled', 'queued')
BEGIN
  INSERT OR REPLACE INTO task_instance_history (ti_id, try_number, state, max_tries, operator, pool, pool_slots, priority_weight,
    queued_at, start_date, end_date, hostname, pid, executor, updated_at)
  VALUES (OLD.id, OLD.try_number, OLD.state, OLD.max_tries, OLD.operator, OLD.pool, OLD.pool_slots, OLD.priority_weight,
    OLD.queued_at, OLD.start_date, OLD.end_date, OLD.hostname, OLD.pid, OLD.executor, OLD.updated_at);
END;
