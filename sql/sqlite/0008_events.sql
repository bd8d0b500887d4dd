-- The lifecycle event log behind GET /api/v2/leoflow/events: the SSE `id:` is this id, so a client resumes
-- with Last-Event-ID, across a restart too. AUTOINCREMENT: an id is never reused, even after retention
-- empties the table, so an old Last-Event-ID can never point into newer events.
CREATE TABLE event_log (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  event      TEXT    NOT NULL,
  created_at INTEGER NOT NULL
);
