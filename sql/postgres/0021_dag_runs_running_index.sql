-- A DAG's counts of its active runs outside backfills (the max_active_runs gate, read by every tick that gates a
-- queued run of it or a run waiting for capacity, and the cron sweep's count per scheduled DAG) could only search
-- dag_runs by (team, dag_id) or by state: every run the DAG ever had, or every active run of every DAG. This
-- partial index holds exactly the rows the counts want. Runs change state a few times in their life, so it costs
-- little to keep. Mirrors SQLite's 0023.
CREATE INDEX IF NOT EXISTS dag_runs_running ON dag_runs (team, dag_id, state) WHERE state IN ('queued', 'running') AND backfill_id IS NULL;
