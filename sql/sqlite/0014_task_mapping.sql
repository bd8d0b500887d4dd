-- Dynamic task mapping: a mapped task has one task instance per map_index (0..n-1) once its expansion is
-- known, and one with map_index -1 before that (as in Airflow). Every existing row is unmapped: -1.
-- The natural key becomes (dag_run_id, task_id, map_index); SQLite cannot change a table constraint in
-- place, so the table is rebuilt keeping its ids (logs, dispatch attempts and history hang off them).
CREATE TABLE task_instances_new (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  dag_run_id      INTEGER NOT NULL REFERENCES dag_runs (id) ON DELETE CASCADE,
  team            TEXT    NOT NULL DEFAULT 'default',
  dag_id          TEXT    NOT NULL,
  run_id          TEXT    NOT NULL,
  task_id         TEXT    NOT NULL,
  map_index       INTEGER NOT NULL DEFAULT -1,
  state           TEXT    NOT NULL DEFAULT 'none',
  try_number      INTEGER NOT NULL DEFAULT 1,
  max_tries       INTEGER NOT NULL DEFAULT 0,
  operator        TEXT    NOT NULL,
  pool            TEXT    NOT NULL,
  pool_slots      INTEGER NOT NULL DEFAULT 1,
  priority_weight INTEGER NOT NULL DEFAULT 1,
  queued_at       INTEGER,
  start_date      INTEGER,
  end_date        INTEGER,
  last_heartbeat  INTEGER,
  hostname        TEXT,
  pid             INTEGER,
  executor        TEXT,
  note            TEXT,
  wait_reason     TEXT,
  updated_at      INTEGER NOT NULL,
  -- Also serves as the index on (dag_run_id) that loadRunSnapshots reads through.
  UNIQUE (dag_run_id, task_id, map_index)
);
INSERT INTO task_instances_new (id, dag_run_id, team, dag_id, run_id, task_id, map_index, state, try_number, max_tries, operator,
    pool, pool_slots, priority_weight, queued_at, start_date, end_date, last_heartbeat, hostname, pid, executor, note, wait_reason,
    updated_at)
  SELECT id, dag_run_id, team, dag_id, run_id, task_id, -1, state, try_number, max_tries, operator,
    pool, pool_slots, priority_weight, queued_at, start_date, end_date, last_heartbeat, hostname, pid, executor, note, wait_reason,
    updated_at FROM task_instances;
DELETE FROM sqlite_sequence WHERE name = 'task_instances_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'task_instances_new', seq FROM sqlite_sequence WHERE name = 'task_instances';
DROP TABLE task_instances;
ALTER TABLE task_instances_new RENAME TO task_instances;
CREATE INDEX task_instances_state ON task_instances (state);
CREATE INDEX task_instances_updated_at ON task_instances (updated_at);
CREATE INDEX task_instances_natural_key ON task_instances (team, dag_id, run_id, task_id, map_index);
CREATE INDEX task_instances_pool_state ON task_instances (state, team, pool);
CREATE TRIGGER task_instance_history_on_next_try AFTER UPDATE OF try_number ON task_instances
WHEN NEW.try_number <> OLD.try_number AND OLD.state NOT IN ('none', 'scheduled', 'queued')
BEGIN
  INSERT OR REPLACE INTO task_instance_history (ti_id, try_number, state, max_tries, operator, pool, pool_slots, priority_weight,
    queued_at, start_date, end_date, hostname, pid, executor, updated_at)
  VALUES (OLD.id, OLD.try_number, OLD.state, OLD.max_tries, OLD.operator, OLD.pool, OLD.pool_slots, OLD.priority_weight,
    OLD.queued_at, OLD.start_date, OLD.end_date, OLD.hostname, OLD.pid, OLD.executor, OLD.updated_at);
END;
