-- A woken tick reads the capacity (active task instances by team, DAG and pool: active-counts.ts) before it
-- dispatches anything, and through an index on state alone SQLite looked up every queued and running row in the
-- table and sorted them for the GROUP BY: with 10,000 runs each holding one queued task, 11-13 ms of every
-- decision (wake -> downstream dispatched), nearly all of it. The index now holds the columns that read groups and
-- sums, in its GROUP BY's order (state first): 1.3 ms, the index's entries alone and no sort. Its WHERE is 0024's.
DROP INDEX IF EXISTS task_instances_state;
CREATE INDEX task_instances_state ON task_instances (state, team, dag_id, pool, pool_slots, executor)
  WHERE state <> 'none' AND state <> 'success';
