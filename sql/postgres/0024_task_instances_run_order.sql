-- A run's task instances in id order, the API's default page of one run (GET …/dagRuns/{run}/taskInstances): the
-- page was the run's rows read through task_instances_run_change and sorted for every page (offset + limit of
-- them), 7-18 ms a page of 100 at 10,000 task instances and growing with the run; paging through such a run took
-- 0.9-1.6 s. Through this index a page is the rows up to its end, in order, no sort (taskInstanceListSql names the
-- run's id). Its columns never change, but every row version a non-HOT update makes (every state change) adds an
-- entry, as in the other indexes.
CREATE INDEX task_instances_run_order ON task_instances (dag_run_id, id);
