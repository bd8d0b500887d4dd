-- Callbacks (docs/callbacks.md). callback_cursors: the id of the last lifecycle event (event_log) the callback
-- runner has handled, so a restarted or newly elected runner resumes where the previous one stopped.
-- deadline_alerts: runs whose deadline callback was called, so a deadline alert fires once per run, whichever
-- replica leads and however often it restarts. A run deleted later leaves its row (a tiny, bounded residue).
CREATE TABLE callback_cursors (
  name          text        PRIMARY KEY,
  last_event_id bigint      NOT NULL,
  updated_at    timestamptz NOT NULL
);
CREATE TABLE deadline_alerts (
  dag_run_id bigint      PRIMARY KEY,
  fired_at   timestamptz NOT NULL
);
