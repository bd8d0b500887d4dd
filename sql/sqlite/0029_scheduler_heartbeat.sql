-- The scheduler leader's heartbeat (Pro), one row: every replica's /monitor/health reports the cluster's scheduler
-- from it, as Airflow's reads its scheduler job's heartbeat from the database. `at` is epoch ms.
CREATE TABLE scheduler_heartbeat (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  replica TEXT NOT NULL,
  at      INTEGER NOT NULL
);
