-- Staging volumes (a Kubernetes PVC or a Docker volume per DAG run that asks for one), recorded when created
-- and when deleted, with why: the store, not only the volume's labels, says which volumes a run had, so GC
-- finds orphans whose run is gone and an operator can see what was reclaimed. A name comes from (dag_id,
-- run_id), so a run whose volume was reclaimed and is re-run gets a new row under the same name: at most one
-- row per name is live (deleted_at NULL).
CREATE TABLE staging_volumes (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  executor      TEXT    NOT NULL,
  name          TEXT    NOT NULL,
  dag_id        TEXT    NOT NULL,
  run_id        TEXT    NOT NULL,
  created_at    INTEGER NOT NULL,
  deleted_at    INTEGER,
  delete_reason TEXT
);
CREATE UNIQUE INDEX staging_volumes_live_name ON staging_volumes (executor, name) WHERE deleted_at IS NULL;
CREATE INDEX staging_volumes_run ON staging_volumes (dag_id, run_id);
