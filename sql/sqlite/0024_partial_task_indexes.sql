-- Two task instance indexes leave out the rows no reader looks for through them (SQLite partial indexes), so the
-- writes of a task's life touch fewer of their pages. An inline chain's hop (an end and its successor's start, one
-- commit) wrote 8.7 pages to the WAL: the state index took 2.0 of them (the ended row into success, the started one
-- out of none) and the change index 2.0 (the started row's insert-time entry, stamp 0, moved to the run's newest).
-- Now 6.6; the hop's store call 83-96 against 94-115 µs (alternating, in one process).
-- task_instances_state: none and success are the states every task instance passes through in bulk, and no reader
-- asks the index for them: the capacity counts, pools' usage, reapers and max_active_tis_per_dag ask for tasks in
-- flight, and the API's lists go by team through the natural key (planned so before this migration too).
-- task_instances_run_change: rows not written since their insert (stamp 0) are found by id (runs.ts), not here.
-- Two inequalities, not NOT IN: SQLite evaluates a partial index's WHERE on every write of the table, and an IN list
-- of a few values made each UPDATE build two temporary b-trees (3.0 against 0.9 µs an UPDATE, microbenchmark).
-- SQLite uses a partial index only for a query that repeats its terms: src/store/sqlite/partial-index-terms.ts holds
-- them, and every reader of these indexes adds them (test/store/sqlite.test.ts checks the plans).
DROP INDEX IF EXISTS task_instances_state;
CREATE INDEX task_instances_state ON task_instances (state) WHERE state <> 'none' AND state <> 'success';
DROP INDEX IF EXISTS task_instances_run_change;
CREATE INDEX task_instances_run_change ON task_instances (dag_run_id, change_seq) WHERE change_seq > 0;
