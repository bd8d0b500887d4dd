-- task_instances_pool_state (state, team, pool) had no reader on SQLite: every query by state is planned on
-- task_instances_state (state), narrower and in id order within a state (EXPLAIN QUERY PLAN, with and without
-- ANALYZE statistics), and no query reads team and pool from it alone (the pool counts also need pool_slots,
-- from the row). Every state change still kept it: two of its pages in each write of a task's end and start.
-- Postgres keeps its copy: there it is the only index on state.
DROP INDEX IF EXISTS task_instances_pool_state;
