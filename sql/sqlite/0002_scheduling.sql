-- Scheduling (issue 5, part 1): backfills and the link from a run to the backfill that created it.
-- Pools and the rest of part 2 live in 0005_pools.sql.

-- One row per backfill request (Airflow 3's `backfill` table). Its runs are created up front in state
-- queued; the scheduler starts at most max_active_runs of them at a time, and none while is_paused.
CREATE TABLE backfills (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  dag_id             TEXT    NOT NULL REFERENCES dags (dag_id),
  from_date          INTEGER NOT NULL,
  to_date            INTEGER NOT NULL,
  run_backwards      INTEGER NOT NULL DEFAULT 0,
  dag_run_conf       TEXT,
  is_paused          INTEGER NOT NULL DEFAULT 0,
  reprocess_behavior TEXT    NOT NULL DEFAULT 'none',
  max_active_runs    INTEGER NOT NULL DEFAULT 10,
  created_at         INTEGER NOT NULL,
  completed_at       INTEGER,
  updated_at         INTEGER NOT NULL
);
-- At most one unfinished backfill per DAG is checked in code; this index makes that check and the
-- scheduler's "which backfills are still going" read cheap.
CREATE INDEX backfills_open ON backfills (dag_id) WHERE completed_at IS NULL;

-- NULL for scheduled and manual runs. Backfill runs count against their backfill's max_active_runs,
-- not the DAG's (as in Airflow 3).
ALTER TABLE dag_runs ADD COLUMN backfill_id INTEGER REFERENCES backfills (id);
CREATE INDEX dag_runs_backfill ON dag_runs (backfill_id) WHERE backfill_id IS NOT NULL;
