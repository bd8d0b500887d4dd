-- Reliability (issue 7): dispatch retries with backoff. Mirrors sql/sqlite/0004_reliability.sql.

-- One row per (task instance, try) whose launch failed at least once. A new try starts with no row, so
-- the attempt budget is per try without any reset step. `next_at` is when the scheduler may launch it
-- again; the loop skips scheduled task instances whose row has next_at in the future.
CREATE TABLE dispatch_attempts (
  ti_id      bigint      NOT NULL REFERENCES task_instances (id) ON DELETE CASCADE,
  try_number integer     NOT NULL,
  attempts   integer     NOT NULL,
  next_at    timestamptz,
  last_error text        NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (ti_id, try_number)
);
-- The scheduler reads "what is still backing off" every dispatching tick: usually nothing, found by index.
CREATE INDEX dispatch_attempts_next_at ON dispatch_attempts (next_at) WHERE next_at IS NOT NULL;

-- The reapers need no new index: running and queued task instances are found through
-- task_instances_active / task_instances_state, running runs through dag_runs_active, and a run's task
-- instances through UNIQUE (dag_run_id, task_id).
