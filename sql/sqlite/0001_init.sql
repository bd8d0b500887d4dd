-- Leoflow schema, SQLite. Times are epoch milliseconds (UTC) in INTEGER columns, booleans 0/1, JSON as TEXT.
-- States are not CHECK-constrained on purpose: SQLite cannot alter a CHECK without rebuilding the table, and
-- the domain (src/domain/states.ts) is the one place that decides which states exist.

-- One row per content version of a DAG's spec. Runs pin a version, so editing a DAG file never changes
-- what an in-flight run executes. `hash` is the SHA-256 of the spec's canonical JSON.
CREATE TABLE dag_versions (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  dag_id     TEXT    NOT NULL,
  hash       TEXT    NOT NULL,
  spec       TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (dag_id, hash)
);

CREATE TABLE dags (
  dag_id         TEXT    PRIMARY KEY,
  fileloc        TEXT    NOT NULL,
  version_id     INTEGER NOT NULL REFERENCES dag_versions (id),
  is_paused      INTEGER NOT NULL DEFAULT 0,
  is_active      INTEGER NOT NULL DEFAULT 1,
  -- Copy of the current spec's tags (JSON array), so the tags filter does not parse every spec.
  tags           TEXT    NOT NULL DEFAULT '[]',
  last_parsed_at INTEGER NOT NULL
);
CREATE INDEX dags_fileloc ON dags (fileloc);

CREATE TABLE import_errors (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  filename    TEXT    NOT NULL,
  stack_trace TEXT    NOT NULL,
  timestamp   INTEGER NOT NULL
);
CREATE INDEX import_errors_filename ON import_errors (filename);

-- AUTOINCREMENT: ids of runs and task instances are never reused, because agent tokens name a TI by id.
CREATE TABLE dag_runs (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  dag_id              TEXT    NOT NULL REFERENCES dags (dag_id),
  run_id              TEXT    NOT NULL,
  run_type            TEXT    NOT NULL,
  state               TEXT    NOT NULL,
  logical_date        INTEGER,
  data_interval_start INTEGER,
  data_interval_end   INTEGER,
  conf                TEXT    NOT NULL DEFAULT '{}',
  version_id          INTEGER NOT NULL REFERENCES dag_versions (id),
  queued_at           INTEGER NOT NULL,
  start_date          INTEGER,
  end_date            INTEGER,
  note                TEXT,
  UNIQUE (dag_id, run_id)
);
CREATE INDEX dag_runs_state ON dag_runs (state);
-- The scheduler tick reads active runs every second; this partial index keeps that read proportional to
-- the number of active runs, not to the whole history.
CREATE INDEX dag_runs_active ON dag_runs (id) WHERE state IN ('queued', 'running');
CREATE INDEX dag_runs_dag_logical_date ON dag_runs (dag_id, logical_date);

CREATE TABLE task_instances (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  dag_run_id      INTEGER NOT NULL REFERENCES dag_runs (id) ON DELETE CASCADE,
  dag_id          TEXT    NOT NULL,
  run_id          TEXT    NOT NULL,
  task_id         TEXT    NOT NULL,
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
  updated_at      INTEGER NOT NULL,
  -- Also serves as the index on (dag_run_id) that loadRunSnapshots reads through.
  UNIQUE (dag_run_id, task_id)
);
CREATE INDEX task_instances_state ON task_instances (state);
CREATE INDEX task_instances_natural_key ON task_instances (dag_id, run_id, task_id);

-- (ti_id, try_number, seq) is the key, so an agent resending a batch after a timeout inserts nothing twice.
CREATE TABLE task_logs (
  ti_id      INTEGER NOT NULL REFERENCES task_instances (id) ON DELETE CASCADE,
  try_number INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  ts         INTEGER NOT NULL,
  stream     TEXT    NOT NULL,
  line       TEXT    NOT NULL,
  PRIMARY KEY (ti_id, try_number, seq)
) WITHOUT ROWID;

-- map_index -1 means "not mapped", as in Airflow.
CREATE TABLE xcom (
  dag_id    TEXT    NOT NULL,
  run_id    TEXT    NOT NULL,
  task_id   TEXT    NOT NULL,
  map_index INTEGER NOT NULL DEFAULT -1,
  key       TEXT    NOT NULL,
  value     TEXT    NOT NULL,
  timestamp INTEGER NOT NULL,
  PRIMARY KEY (dag_id, run_id, task_id, map_index, key)
) WITHOUT ROWID;

CREATE TABLE users (
  username      TEXT    PRIMARY KEY,
  password_hash TEXT    NOT NULL,
  role          TEXT    NOT NULL,
  created_at    INTEGER NOT NULL
);
