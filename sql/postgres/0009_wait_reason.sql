-- Why the scheduler holds a task instance back, as a kind code reads (parallelism, max_active_tasks,
-- pool_missing, pool_too_small, pool_full, depends_on_past; src/domain/wait-reason.ts). The note stays the
-- text people read, rendered from the full reason. NULL: not held.
ALTER TABLE task_instances ADD COLUMN wait_reason text;
-- Instances waiting while the upgrade runs get their kind from the note the scheduler wrote, so the orphan
-- reaper keeps seeing a run held by depends_on_past. This is the last place a note is read back.
UPDATE task_instances SET wait_reason = CASE
    WHEN state = 'none' AND starts_with(note, 'depends_on_past: ') THEN 'depends_on_past'
    WHEN state = 'scheduled' AND starts_with(note, 'parallelism (') THEN 'parallelism'
    WHEN state = 'scheduled' AND starts_with(note, 'max_active_tasks (') THEN 'max_active_tasks'
    WHEN state = 'scheduled' AND note ~ '^pool \S+ does not exist' THEN 'pool_missing'
    WHEN state = 'scheduled' AND note ~ '^task needs \d+ slots but pool ' THEN 'pool_too_small'
    WHEN state = 'scheduled' AND note ~ '^waiting for .* in pool ' THEN 'pool_full'
  END
  WHERE state IN ('none', 'scheduled') AND note IS NOT NULL;
