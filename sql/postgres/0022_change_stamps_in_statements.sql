-- Every write of a task instance's state, try_number or updated_at now stamps change_xid in its own statement
-- (src/store/postgres/change-stamp.ts), as SQLite's have since its 0018. The BEFORE UPDATE trigger that stamped
-- them made Postgres lock each updated row first (a BEFORE ROW trigger reads the row it fires for under a tuple
-- lock), one WAL record more per row and a PL/pgSQL call: in a 10,000-task inline fan-out 4.7 of a task's 37
-- WAL records were those locks. Inserts keep the column's default (the inserting transaction).
-- During a rolling replacement, replicas still on the previous release write without stamping: the scheduler
-- sees those writes in runs of 64 or more task instances at its next full sweep (at most a minute), in smaller
-- runs at once (they are read whole).
DROP TRIGGER IF EXISTS task_instance_changed ON task_instances;
DROP FUNCTION IF EXISTS task_instance_changed();
