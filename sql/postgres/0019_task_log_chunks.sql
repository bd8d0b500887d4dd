-- Task logs a batch to a row (src/store/log-chunks.ts): the lines one write brings for one try, as one JSON array
-- of [epoch ms, stream, line] numbered from first_seq. A row a line cost an inline task's end three rows, three
-- key entries and three foreign-key checks. task_logs stays, as it is: migrations only add, and replicas of the
-- previous release go on writing lines there during a rolling upgrade; readers read both (logs.ts), the lines
-- stored before the upgrade included.
CREATE TABLE task_log_chunks (
  ti_id      bigint  NOT NULL REFERENCES task_instances (id) ON DELETE CASCADE,
  try_number integer NOT NULL,
  first_seq  integer NOT NULL,
  last_seq   integer NOT NULL,
  lines      text    NOT NULL,
  PRIMARY KEY (ti_id, try_number, first_seq)
);
