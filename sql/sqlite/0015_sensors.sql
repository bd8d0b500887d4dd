-- Sensors waiting in the control plane (state deferred) or between user-defined checks (up_for_reschedule):
-- when the next check is due, when the try's first check ran (the timeout counts from it) and how many
-- checks were made (exponential backoff). A deferred sensor holds no slot: the tick reads only the due ones,
-- through the index on (state, next_check_at).
ALTER TABLE task_instances ADD COLUMN next_check_at INTEGER;
ALTER TABLE task_instances ADD COLUMN sensor_started_at INTEGER;
ALTER TABLE task_instances ADD COLUMN sensor_checks INTEGER NOT NULL DEFAULT 0;
CREATE INDEX task_instances_next_check ON task_instances (state, next_check_at) WHERE next_check_at IS NOT NULL;
