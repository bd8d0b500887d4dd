-- 0024's index on (dag_run_id, id), where a store built it, is dropped again. It served one run's page of task
-- instances in id order, but every row version a non-HOT update of task_instances makes (every state change) wrote
-- an entry into it too, and the bulk writes paid for it: the first sweep over 10,000 runs 1,000-1,077 -> 1,173-1,397
-- ms and the seeding of runs 2,001-2,368 -> 1,445-1,977 a second (four alternating pairs, scripts/bench tick). A
-- run's page is read as before 0024 (the run's rows through the change index, sorted per page).
DROP INDEX IF EXISTS task_instances_run_order;
