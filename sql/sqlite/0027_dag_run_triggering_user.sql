-- Airflow's dag_run.triggering_user_name: who triggered a run through the API (null for the scheduler's runs and
-- with --auth none). Nullable and without a default, so adding it rewrites no row.
ALTER TABLE dag_runs ADD COLUMN triggering_user_name TEXT;
