-- task_instances_updated_at (updated_at) had one reader, the incremental sweep's "runs changed since", which now
-- reads the change counter instead (listRunIdsChangedAfter: a probe of (dag_run_id, change_seq) per active run).
-- Every transition kept it: ~1.7 of a task instance UPDATE's 7.3 µs (microbenchmark, 32 a transaction) and its
-- pages in each write of a task's end and start. Postgres keeps its copy: its sweep still reads by updated_at.
DROP INDEX IF EXISTS task_instances_updated_at;
