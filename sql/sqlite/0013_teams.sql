-- Teams (tenants) on one install. Every row a team owns carries its team; natural keys (a DAG id, a run id,
-- a variable key, a connection id, a pool name, an XCom key) are unique within a team, not across teams.
-- Existing rows move into the team `default`, so a single-team install reads exactly as before. Surrogate
-- ids (runs, task instances, backfills) stay global: agent tokens and the scheduler name rows by id.
-- Task log lines and task instance history are reached only through their task instance, which carries the
-- team, so they do not repeat it.
-- SQLite cannot change a key in place: the tables whose key gains `team` are rebuilt (new table, copy, drop,
-- rename), keeping ids and AUTOINCREMENT counters. The runner applies this with foreign keys off and checks
-- them (PRAGMA foreign_key_check) before committing, as SQLite's ALTER TABLE procedure asks.

CREATE TABLE teams (
  name                TEXT    PRIMARY KEY,
  description         TEXT,
  max_running_tasks   INTEGER,
  max_pool_slots      INTEGER,
  max_inline_requests INTEGER,
  executor_policy     TEXT    NOT NULL DEFAULT '{}',
  created_at          INTEGER NOT NULL
);
INSERT INTO teams (name, created_at) VALUES ('default', CAST(unixepoch('subsec') * 1000 AS INTEGER));

CREATE TABLE team_roles (
  username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
  team     TEXT NOT NULL REFERENCES teams (name) ON DELETE CASCADE,
  role     TEXT NOT NULL,
  PRIMARY KEY (username, team)
) WITHOUT ROWID;
INSERT INTO team_roles (username, team, role) SELECT username, 'default', role FROM users;

-- dag_versions: UNIQUE (team, dag_id, hash)
CREATE TABLE dag_versions_new (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  team       TEXT    NOT NULL,
  dag_id     TEXT    NOT NULL,
  hash       TEXT    NOT NULL,
  spec       TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (team, dag_id, hash)
);
INSERT INTO dag_versions_new (id, team, dag_id, hash, spec, created_at)
  SELECT id, 'default', dag_id, hash, spec, created_at FROM dag_versions;
DELETE FROM sqlite_sequence WHERE name = 'dag_versions_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'dag_versions_new', seq FROM sqlite_sequence WHERE name = 'dag_versions';
DROP TABLE dag_versions;
ALTER TABLE dag_versions_new RENAME TO dag_versions;

-- dags: PRIMARY KEY (team, dag_id)
CREATE TABLE dags_new (
  team           TEXT    NOT NULL REFERENCES teams (name),
  dag_id         TEXT    NOT NULL,
  fileloc        TEXT    NOT NULL,
  version_id     INTEGER NOT NULL REFERENCES dag_versions (id),
  is_paused      INTEGER NOT NULL DEFAULT 0,
  is_active      INTEGER NOT NULL DEFAULT 1,
  -- Copy of the current spec's tags (JSON array), so the tags filter does not parse every spec.
  tags           TEXT    NOT NULL DEFAULT '[]',
  last_parsed_at INTEGER NOT NULL,
  PRIMARY KEY (team, dag_id)
);
INSERT INTO dags_new (team, dag_id, fileloc, version_id, is_paused, is_active, tags, last_parsed_at)
  SELECT 'default', dag_id, fileloc, version_id, is_paused, is_active, tags, last_parsed_at FROM dags;
DROP TABLE dags;
ALTER TABLE dags_new RENAME TO dags;
CREATE INDEX dags_fileloc ON dags (fileloc);

-- backfills: (team, dag_id) → dags
CREATE TABLE backfills_new (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  team               TEXT    NOT NULL,
  dag_id             TEXT    NOT NULL,
  from_date          INTEGER NOT NULL,
  to_date            INTEGER NOT NULL,
  run_backwards      INTEGER NOT NULL DEFAULT 0,
  dag_run_conf       TEXT,
  is_paused          INTEGER NOT NULL DEFAULT 0,
  reprocess_behavior TEXT    NOT NULL DEFAULT 'none',
  max_active_runs    INTEGER NOT NULL DEFAULT 10,
  created_at         INTEGER NOT NULL,
  completed_at       INTEGER,
  updated_at         INTEGER NOT NULL,
  FOREIGN KEY (team, dag_id) REFERENCES dags (team, dag_id)
);
INSERT INTO backfills_new (id, team, dag_id, from_date, to_date, run_backwards, dag_run_conf, is_paused, reprocess_behavior,
    max_active_runs, created_at, completed_at, updated_at)
  SELECT id, 'default', dag_id, from_date, to_date, run_backwards, dag_run_conf, is_paused, reprocess_behavior,
    max_active_runs, created_at, completed_at, updated_at FROM backfills;
DELETE FROM sqlite_sequence WHERE name = 'backfills_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'backfills_new', seq FROM sqlite_sequence WHERE name = 'backfills';
DROP TABLE backfills;
ALTER TABLE backfills_new RENAME TO backfills;
CREATE INDEX backfills_open ON backfills (team, dag_id) WHERE completed_at IS NULL;

-- dag_runs: UNIQUE (team, dag_id, run_id), (team, dag_id) → dags
CREATE TABLE dag_runs_new (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  team                TEXT    NOT NULL,
  dag_id              TEXT    NOT NULL,
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
  backfill_id         INTEGER REFERENCES backfills (id),
  UNIQUE (team, dag_id, run_id),
  FOREIGN KEY (team, dag_id) REFERENCES dags (team, dag_id)
);
INSERT INTO dag_runs_new (id, team, dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, conf,
    version_id, queued_at, start_date, end_date, note, backfill_id)
  SELECT id, 'default', dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, conf,
    version_id, queued_at, start_date, end_date, note, backfill_id FROM dag_runs;
DELETE FROM sqlite_sequence WHERE name = 'dag_runs_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'dag_runs_new', seq FROM sqlite_sequence WHERE name = 'dag_runs';
DROP TABLE dag_runs;
ALTER TABLE dag_runs_new RENAME TO dag_runs;
CREATE INDEX dag_runs_state ON dag_runs (state);
CREATE INDEX dag_runs_active ON dag_runs (id) WHERE state IN ('queued', 'running');
CREATE INDEX dag_runs_dag_logical_date ON dag_runs (team, dag_id, logical_date);
CREATE INDEX dag_runs_backfill ON dag_runs (backfill_id) WHERE backfill_id IS NOT NULL;

-- task_instances keep their table (logs, history and attempts hang off its ids); the tick counts queued and
-- running task instances per team (quotas) next to per DAG.
ALTER TABLE task_instances ADD COLUMN team TEXT NOT NULL DEFAULT 'default';
DROP INDEX task_instances_natural_key;
CREATE INDEX task_instances_natural_key ON task_instances (team, dag_id, run_id, task_id);

-- Pool usage is summed per team and pool (the same pool name in two teams is two pools).
DROP INDEX task_instances_pool_state;
CREATE INDEX task_instances_pool_state ON task_instances (state, team, pool);

-- xcom: PRIMARY KEY (team, dag_id, run_id, task_id, map_index, key)
CREATE TABLE xcom_new (
  team      TEXT    NOT NULL,
  dag_id    TEXT    NOT NULL,
  run_id    TEXT    NOT NULL,
  task_id   TEXT    NOT NULL,
  map_index INTEGER NOT NULL DEFAULT -1,
  key       TEXT    NOT NULL,
  value     TEXT    NOT NULL,
  timestamp INTEGER NOT NULL,
  PRIMARY KEY (team, dag_id, run_id, task_id, map_index, key)
) WITHOUT ROWID;
INSERT INTO xcom_new (team, dag_id, run_id, task_id, map_index, key, value, timestamp)
  SELECT 'default', dag_id, run_id, task_id, map_index, key, value, timestamp FROM xcom;
DROP TABLE xcom;
ALTER TABLE xcom_new RENAME TO xcom;

ALTER TABLE import_errors ADD COLUMN team TEXT NOT NULL DEFAULT 'default';

-- variables: PRIMARY KEY (team, key)
CREATE TABLE variables_new (
  team         TEXT    NOT NULL REFERENCES teams (name),
  key          TEXT    NOT NULL,
  value        TEXT    NOT NULL,
  description  TEXT,
  updated_at   INTEGER NOT NULL,
  is_encrypted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (team, key)
);
INSERT INTO variables_new (team, key, value, description, updated_at, is_encrypted)
  SELECT 'default', key, value, description, updated_at, is_encrypted FROM variables;
DROP TABLE variables;
ALTER TABLE variables_new RENAME TO variables;

-- connections: PRIMARY KEY (team, connection_id)
CREATE TABLE connections_new (
  team               TEXT    NOT NULL REFERENCES teams (name),
  connection_id      TEXT    NOT NULL,
  conn_type          TEXT    NOT NULL,
  description        TEXT,
  host               TEXT,
  login              TEXT,
  password           TEXT,
  schema             TEXT,
  port               INTEGER,
  -- JSON object as text, exactly as Airflow's `extra`.
  extra              TEXT,
  updated_at         INTEGER NOT NULL,
  is_encrypted       INTEGER NOT NULL DEFAULT 0,
  is_extra_encrypted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (team, connection_id)
);
INSERT INTO connections_new (team, connection_id, conn_type, description, host, login, password, schema, port, extra, updated_at,
    is_encrypted, is_extra_encrypted)
  SELECT 'default', connection_id, conn_type, description, host, login, password, schema, port, extra, updated_at,
    is_encrypted, is_extra_encrypted FROM connections;
DROP TABLE connections;
ALTER TABLE connections_new RENAME TO connections;

-- pools: UNIQUE (team, name)
CREATE TABLE pools_new (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  team             TEXT    NOT NULL REFERENCES teams (name),
  name             TEXT    NOT NULL,
  slots            INTEGER NOT NULL,
  description      TEXT,
  include_deferred INTEGER NOT NULL DEFAULT 0,
  UNIQUE (team, name)
);
INSERT INTO pools_new (id, team, name, slots, description, include_deferred)
  SELECT id, 'default', name, slots, description, include_deferred FROM pools;
DELETE FROM sqlite_sequence WHERE name = 'pools_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'pools_new', seq FROM sqlite_sequence WHERE name = 'pools';
DROP TABLE pools;
ALTER TABLE pools_new RENAME TO pools;

ALTER TABLE audit_log ADD COLUMN team TEXT NOT NULL DEFAULT 'default';
DROP INDEX audit_log_dag_dttm;
CREATE INDEX audit_log_dag_dttm ON audit_log (team, dag_id, dttm);

ALTER TABLE event_log ADD COLUMN team TEXT NOT NULL DEFAULT 'default';
ALTER TABLE staging_volumes ADD COLUMN team TEXT NOT NULL DEFAULT 'default';
