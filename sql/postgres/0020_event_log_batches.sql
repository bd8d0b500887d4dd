-- The lifecycle event log a batch to a row (src/store/event-batches.ts): an append's events of one team as one
-- JSON array holding the ids first_id..last_id. A row an event cost a busy server three inserts per inline
-- task, each with its key entry. Ids still come from event_log's sequence, drawn under the append lock: the
-- rows event_log holds (and those replicas of the previous release write there during a rolling upgrade)
-- share the id space, and readers merge both tables by id. event_log stays, as it is: migrations only add.
CREATE TABLE event_log_batches (
  last_id    bigint      PRIMARY KEY,
  first_id   bigint      NOT NULL,
  team       text COLLATE "C" NOT NULL,
  events     text        NOT NULL,
  created_at timestamptz NOT NULL
);
