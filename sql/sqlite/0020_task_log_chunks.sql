-- Task logs a batch to a row (src/store/log-chunks.ts): the lines one write brings for one try, as one JSON array
-- of [epoch ms, stream, line] numbered from first_seq. A row a line cost an inline task's end three rows and
-- three key entries. The lines stored so far become one-line rows.
CREATE TABLE task_log_chunks (
  ti_id      INTEGER NOT NULL REFERENCES task_instances (id) ON DELETE CASCADE,
  try_number INTEGER NOT NULL,
  first_seq  INTEGER NOT NULL,
  last_seq   INTEGER NOT NULL,
  lines      TEXT    NOT NULL,
  PRIMARY KEY (ti_id, try_number, first_seq)
) WITHOUT ROWID;
INSERT INTO task_log_chunks (ti_id, try_number, first_seq, last_seq, lines)
SELECT ti_id, try_number, seq, seq, json_array(json_array(ts, stream, line)) FROM task_logs;
DROP TABLE task_logs;
