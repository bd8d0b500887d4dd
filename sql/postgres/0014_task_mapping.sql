-- Dynamic task mapping: a mapped task has one task instance per map_index (0..n-1) once its expansion is
-- known, and one with map_index -1 before that (as in Airflow). Every existing row is unmapped: -1.
-- The natural key becomes (dag_run_id, task_id, map_index).
ALTER TABLE task_instances ADD COLUMN map_index integer NOT NULL DEFAULT -1;
ALTER TABLE task_instances DROP CONSTRAINT task_instances_dag_run_id_task_id_key;
ALTER TABLE task_instances ADD CONSTRAINT task_instances_dag_run_id_task_id_map_index_key UNIQUE (dag_run_id, task_id, map_index);
