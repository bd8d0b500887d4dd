-- The scheduler leader's heartbeat (Pro), one row: every replica's /monitor/health reports the cluster's scheduler
-- from it, as Airflow's reads its scheduler job's heartbeat from the database.
CREATE TABLE scheduler_heartbeat (
  id      smallint PRIMARY KEY CHECK (id = 1),
  replica text NOT NULL,
  at      timestamptz NOT NULL
);
