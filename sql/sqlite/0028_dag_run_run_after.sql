-- Airflow's dag_run.run_after, when the trigger gave one (epoch ms): the scheduler starts the run no earlier. Null
-- for every other run (the API shows its logical date, else when it was queued). Nullable, no default: no row is
-- rewritten.
ALTER TABLE dag_runs ADD COLUMN run_after INTEGER;
