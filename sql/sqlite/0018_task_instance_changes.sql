-- What changed in a run since the scheduler last read it (loadRunChanges with a cursor), without comparing
-- every task instance it holds. A write that changes a task instance's state, try_number or updated_at stamps
-- the row with a number of a counter moved in the same transaction: applyTransitions moves it once and stamps
-- its rows itself, and every other write of those columns (clears, reapers, mapping) stamps in its statement
-- (CHANGE_STAMP_SQL in src/store/sqlite/task-instances.ts). No trigger: one on task_instances made every UPDATE
-- of the table 1.5-4x slower, on the scheduler's hot path. SQLite has one writer at a time, so a reader that
-- saw the counter at N has seen every row stamped up to N, and every later change is stamped above N. Inserted rows need no stamp: task instance ids are
-- AUTOINCREMENT, so the cursor also keeps the highest id handed out (sqlite_sequence) and rows above it are new.
-- A new write of state, try_number or updated_at must stamp too (the store contract's cursor tests cover them).
ALTER TABLE task_instances ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE task_instance_change_counter (
  id  INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL
);
INSERT INTO task_instance_change_counter (id, seq) VALUES (1, 0);
CREATE INDEX task_instances_run_change ON task_instances (dag_run_id, change_seq);
