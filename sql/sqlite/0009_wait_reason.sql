-- Why the scheduler holds a task instance back, as a kind code reads (parallelism, max_active_tasks,
-- pool_missing, pool_too_small, pool_full, depends_on_past; src/domain/wait-reason.ts). The note stays the
-- text people read, rendered from the full reason. NULL: not held.
ALTER TABLE task_instances ADD COLUMN wait_reason TEXT;
-- Instances waiting while the upgrade runs get their kind from the note the scheduler wrote, so the orphan
-- reaper keeps seeing a run held by depends_on_past. This is the last place a note is read back.
UPDATE task_instances SET wait_reason = CASE
    WHEN state = 'none' AND note GLOB 'depends_on_past: *' THEN 'depends_on_past'
    WHEN state = 'scheduled' AND note GLOB 'parallelism (*' THEN 'parallelism'
    WHEN state = 'scheduled' AND note GLOB 'max_active_tasks (*' THEN 'max_active_tasks'
    WHEN state = 'scheduled' AND note GLOB 'pool * does not exist*' THEN 'pool_missing'
    WHEN state = 'scheduled' AND note GLOB 'task needs [0-9]* slots but pool *' THEN 'pool_too_small'
    WHEN state = 'scheduled' AND note GLOB 'waiting for * in pool *' THEN 'pool_full'
  END
  WHERE state IN ('none', 'scheduled') AND note IS NOT NULL;
