-- Airflow's dag_run.run_after, when the trigger gave one: the scheduler starts the run no earlier. Null for every
-- other run (the API shows its logical date, else when it was queued). Nullable, no default: a catalog change only.
ALTER TABLE dag_runs ADD COLUMN run_after timestamptz;
