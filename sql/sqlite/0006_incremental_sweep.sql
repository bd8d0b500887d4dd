-- The scheduler's sweep reloads only runs whose task instances changed since the previous sweep;
-- this index keeps that lookup from scanning every task instance.
CREATE INDEX IF NOT EXISTS task_instances_updated_at ON task_instances (updated_at);
