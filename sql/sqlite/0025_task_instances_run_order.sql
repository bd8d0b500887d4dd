-- A run's task instances in id order, the API's default page of one run (GET …/dagRuns/{run}/taskInstances): the
-- page was read through the natural key (by task_id) and sorted for every page, 2.6-6 ms a page of 100 at 10,000
-- task instances and growing with the run; paging through such a run took ~0.37 s. An index on dag_run_id holds
-- its rows in rowid (id) order, so a page is the entries up to its end, no sort (findTaskInstances names the
-- run's id). dag_run_id never changes: only the insert of a task instance writes this index, none of its updates.
CREATE INDEX task_instances_run_order ON task_instances (dag_run_id);
