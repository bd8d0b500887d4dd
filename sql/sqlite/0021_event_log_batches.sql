-- The lifecycle event log a batch to a row (src/store/event-batches.ts): an append's events of one team as one
-- JSON array holding the ids first_id..last_id. AUTOINCREMENT on last_id keeps the newest id ever given in
-- sqlite_sequence, beside event_log's: the next append starts after both, so ids are never reused, even
-- after retention empties both tables. event_log keeps the rows written before; readers merge both by id.
CREATE TABLE event_log_batches (
  last_id    INTEGER PRIMARY KEY AUTOINCREMENT,
  first_id   INTEGER NOT NULL,
  team       TEXT    NOT NULL,
  events     TEXT    NOT NULL,
  created_at INTEGER NOT NULL
);
