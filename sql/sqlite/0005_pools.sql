-- Pools (Airflow's): named slot budgets that tasks draw from with `pool` / `pool_slots`. Usage (running,
-- queued, scheduled slots) is not stored: it is summed from task_instances when asked, so it cannot drift.
-- slots = -1 means unlimited, as in Airflow.
CREATE TABLE pools (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  name             TEXT    NOT NULL UNIQUE,
  slots            INTEGER NOT NULL,
  description      TEXT,
  include_deferred INTEGER NOT NULL DEFAULT 0
);

-- Every task names default_pool unless it says otherwise; Airflow creates it with 128 slots.
INSERT INTO pools (name, slots, description, include_deferred) VALUES ('default_pool', 128, 'Default pool', 0);

-- Pool usage sums pool_slots of scheduled/queued/running task instances per pool; depends_on_past looks up
-- the previous run of a DAG by logical date (dag_runs_dag_logical_date already serves that).
CREATE INDEX task_instances_pool_state ON task_instances (state, pool);
