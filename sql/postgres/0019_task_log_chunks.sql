-- Task logs a batch to a row (src/store/log-chunks.ts): the lines one write brings for one try, as one JSON array
-- of [epoch ms, stream, line] numbered from first_seq. A row a line cost an inline task's end three rows, three
-- key entries and three foreign-key checks. The lines stored so far become one-line rows.
CREATE TABLE task_log_chunks (
  ti_id      bigint  NOT NULL REFERENCES task_instances (id) ON DELETE CASCADE,
  try_number integer NOT NULL,
  first_seq  integer NOT NULL,
  last_seq   integer NOT NULL,
  lines      text    NOT NULL,
  PRIMARY KEY (ti_id, try_number, first_seq)
);
INSERT INTO task_log_chunks (ti_id, try_number, first_seq, last_seq, lines)
SELECT ti_id, try_number, seq, seq, json_build_array(json_build_array(round(date_part('epoch', ts) * 1000)::bigint, stream, line))::text
FROM task_logs;
DROP TABLE task_logs;
