-- A task instance's note as a user wrote it (Airflow's task instance note), apart from `note`, which the scheduler,
-- agents and reapers rewrite with their reasons: a user's words stay through those writes, clears and retries.
-- No index and no hot statement touches it: only the API's reads and the operator's writes name it.
ALTER TABLE task_instances ADD COLUMN user_note TEXT;
