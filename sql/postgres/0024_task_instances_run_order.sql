-- Nothing: this migration created an index on task_instances (dag_run_id, id) for one run's page of task
-- instances in id order, and 0025 drops it again (its cost on the bulk writes of task instances; see there). A
-- store that ran it as it was has the index until 0025; any other would build it over every task instance at the
-- upgrade only to drop it, so it now does nothing.
SELECT 1;
