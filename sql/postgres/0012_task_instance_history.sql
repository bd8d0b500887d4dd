-- One row per finished try of a task instance (Airflow's task_instance_history), for GET …/tries. A trigger
-- writes it when try_number moves on (a retry or a clear starts the next try), so no code path that
-- changes tries can forget it; a try that never got past queued is not a try anyone ran, and is skipped.
CREATE TABLE task_instance_history (
  ti_id           bigint      NOT NULL REFERENCES task_instances (id) ON DELETE CASCADE,
  try_number      integer     NOT NULL,
  state           text        NOT NULL,
  max_tries       integer     NOT NULL,
  operator        text        NOT NULL,
  pool            text COLLATE "C" NOT NULL,
  pool_slots      integer     NOT NULL,
  priority_weight integer     NOT NULL,
  queued_at       timestamptz,
  start_date      timestamptz,
  end_date        timestamptz,
  hostname        text,
  pid             integer,
  executor        text,
  updated_at      timestamptz NOT NULL,
  PRIMARY KEY (ti_id, try_number)
);

CREATE FUNCTION task_instance_history_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO task_instance_history (ti_id, try_number, state, max_tries, operator, pool, pool_slots, priority_weight,
    queued_at, start_date, end_date, hostname, pid, executor, updated_at)
  VALUES (OLD.id, OLD.try_number, OLD.state, OLD.max_tries, OLD.operator, OLD.pool, OLD.pool_slots, OLD.priority_weight,
    OLD.queued_at, OLD.start_date, OLD.end_date, OLD.hostname, OLD.pid, OLD.executor, OLD.updated_at)
  ON CONFLICT (ti_id, try_number) DO UPDATE SET state = EXCLUDED.state, max_tries = EXCLUDED.max_tries,
    queued_at = EXCLUDED.queued_at, start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date,
    hostname = EXCLUDED.hostname, pid = EXCLUDED.pid, executor = EXCLUDED.executor, updated_at = EXCLUDED.updated_at;
  RETURN NULL;
END $$;

CREATE TRIGGER task_instance_history_on_next_try AFTER UPDATE OF try_number ON task_instances
FOR EACH ROW WHEN (NEW.try_number <> OLD.try_number AND OLD.state NOT IN ('none', 'scheduled', 'queued'))
EXECUTE FUNCTION task_instance_history_record();
