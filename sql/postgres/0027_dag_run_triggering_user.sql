-- Airflow's dag_run.triggering_user_name: who triggered a run through the API (null for the scheduler's runs and
-- with --auth none). Nullable and without a default: a catalog change only, no row is rewritten.
ALTER TABLE dag_runs ADD COLUMN triggering_user_name text;
