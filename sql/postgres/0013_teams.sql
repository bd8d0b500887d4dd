-- Teams (tenants) on one install. Every row a team owns carries its team; natural keys (a DAG id, a run id,
-- a variable key, a connection id, a pool name, an XCom key) are unique within a team, not across teams.
-- Existing rows move into the team `default`, so a single-team install reads exactly as before. Surrogate
-- ids (runs, task instances, backfills) stay global: agent tokens and the scheduler name rows by id.
-- Task log lines and task instance history are reached only through their task instance, which carries the
-- team, so they do not repeat it (a log line is the most numerous row; 8 more bytes each buys nothing).

-- One row per team, with its quotas (NULL = unlimited) and its executor policy (JSON; see domain/teams.ts).
CREATE TABLE teams (
  name                text COLLATE "C" PRIMARY KEY,
  description         text,
  max_running_tasks   integer,
  max_pool_slots      integer,
  max_inline_requests integer,
  executor_policy     jsonb       NOT NULL DEFAULT '{}',
  created_at          timestamptz NOT NULL
);
INSERT INTO teams (name, created_at) VALUES ('default', now());

-- A user's role in a team (Airflow's Admin, Op, User, Viewer). Existing users keep their role, in `default`.
CREATE TABLE team_roles (
  username text COLLATE "C" NOT NULL REFERENCES users (username) ON DELETE CASCADE,
  team     text COLLATE "C" NOT NULL REFERENCES teams (name) ON DELETE CASCADE,
  role     text        NOT NULL,
  PRIMARY KEY (username, team)
);
INSERT INTO team_roles (username, team, role) SELECT username, 'default', role FROM users;

ALTER TABLE dag_runs DROP CONSTRAINT dag_runs_dag_id_fkey;
ALTER TABLE backfills DROP CONSTRAINT backfills_dag_id_fkey;

ALTER TABLE dags ADD COLUMN team text COLLATE "C" NOT NULL DEFAULT 'default' REFERENCES teams (name);
ALTER TABLE dags DROP CONSTRAINT dags_pkey;
ALTER TABLE dags ADD PRIMARY KEY (team, dag_id);

ALTER TABLE dag_versions ADD COLUMN team text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE dag_versions DROP CONSTRAINT dag_versions_dag_id_hash_key;
ALTER TABLE dag_versions ADD CONSTRAINT dag_versions_team_dag_id_hash_key UNIQUE (team, dag_id, hash);

ALTER TABLE dag_runs ADD COLUMN team text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE dag_runs DROP CONSTRAINT dag_runs_dag_id_run_id_key;
ALTER TABLE dag_runs ADD CONSTRAINT dag_runs_team_dag_id_run_id_key UNIQUE (team, dag_id, run_id);
ALTER TABLE dag_runs ADD CONSTRAINT dag_runs_dag_fkey FOREIGN KEY (team, dag_id) REFERENCES dags (team, dag_id);
DROP INDEX dag_runs_dag_logical_date;
CREATE INDEX dag_runs_dag_logical_date ON dag_runs (team, dag_id, logical_date);

ALTER TABLE backfills ADD COLUMN team text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE backfills ADD CONSTRAINT backfills_dag_fkey FOREIGN KEY (team, dag_id) REFERENCES dags (team, dag_id);
DROP INDEX backfills_open;
CREATE INDEX backfills_open ON backfills (team, dag_id) WHERE completed_at IS NULL;

-- The tick counts queued and running task instances per team (quotas) next to per DAG.
ALTER TABLE task_instances ADD COLUMN team text COLLATE "C" NOT NULL DEFAULT 'default';
DROP INDEX task_instances_active;
CREATE INDEX task_instances_active ON task_instances (team, dag_id) WHERE state IN ('queued', 'running');

-- Pool usage is summed per team and pool (the same pool name in two teams is two pools).
DROP INDEX task_instances_pool_state;
CREATE INDEX task_instances_pool_state ON task_instances (state, team, pool);

ALTER TABLE xcom ADD COLUMN team text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE xcom DROP CONSTRAINT xcom_pkey;
ALTER TABLE xcom ADD PRIMARY KEY (team, dag_id, run_id, task_id, map_index, key);

ALTER TABLE import_errors ADD COLUMN team text COLLATE "C" NOT NULL DEFAULT 'default';

ALTER TABLE variables ADD COLUMN team text COLLATE "C" NOT NULL DEFAULT 'default' REFERENCES teams (name);
ALTER TABLE variables DROP CONSTRAINT variables_pkey;
ALTER TABLE variables ADD PRIMARY KEY (team, key);

ALTER TABLE connections ADD COLUMN team text COLLATE "C" NOT NULL DEFAULT 'default' REFERENCES teams (name);
ALTER TABLE connections DROP CONSTRAINT connections_pkey;
ALTER TABLE connections ADD PRIMARY KEY (team, connection_id);

ALTER TABLE pools ADD COLUMN team text COLLATE "C" NOT NULL DEFAULT 'default' REFERENCES teams (name);
ALTER TABLE pools DROP CONSTRAINT pools_name_key;
ALTER TABLE pools ADD CONSTRAINT pools_team_name_key UNIQUE (team, name);

ALTER TABLE audit_log ADD COLUMN team text COLLATE "C" NOT NULL DEFAULT 'default';
DROP INDEX audit_log_dag_dttm;
CREATE INDEX audit_log_dag_dttm ON audit_log (team, dag_id, dttm);

ALTER TABLE event_log ADD COLUMN team text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE staging_volumes ADD COLUMN team text COLLATE "C" NOT NULL DEFAULT 'default';

-- The defaults only moved existing rows into `default`; from here on a row names its team or is refused, so
-- code that forgets the team fails loudly instead of writing into `default`.
ALTER TABLE dags ALTER COLUMN team DROP DEFAULT;
ALTER TABLE dag_versions ALTER COLUMN team DROP DEFAULT;
ALTER TABLE dag_runs ALTER COLUMN team DROP DEFAULT;
ALTER TABLE backfills ALTER COLUMN team DROP DEFAULT;
ALTER TABLE task_instances ALTER COLUMN team DROP DEFAULT;
ALTER TABLE xcom ALTER COLUMN team DROP DEFAULT;
ALTER TABLE import_errors ALTER COLUMN team DROP DEFAULT;
ALTER TABLE variables ALTER COLUMN team DROP DEFAULT;
ALTER TABLE connections ALTER COLUMN team DROP DEFAULT;
ALTER TABLE pools ALTER COLUMN team DROP DEFAULT;
ALTER TABLE audit_log ALTER COLUMN team DROP DEFAULT;
ALTER TABLE event_log ALTER COLUMN team DROP DEFAULT;
ALTER TABLE staging_volumes ALTER COLUMN team DROP DEFAULT;
