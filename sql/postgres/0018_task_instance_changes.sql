-- What changed in a run since the scheduler last read it (loadRunChanges with a cursor), without sending it
-- every version it holds: each insert, and each write that changes state, try_number or updated_at, stamps
-- the row with its transaction's id. Sequences are not commit-ordered, transaction ids against a snapshot
-- are: the cursor is the snapshot of the previous read, and a row changed since is one whose stamp that
-- snapshot does not see. Rows from before this migration have no stamp: they are older than any cursor.
ALTER TABLE task_instances ADD COLUMN change_xid xid8;
ALTER TABLE task_instances ALTER COLUMN change_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX task_instances_run_change ON task_instances (dag_run_id, change_xid);
CREATE FUNCTION task_instance_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.change_xid := pg_current_xact_id();
  RETURN NEW;
END
$$;
CREATE TRIGGER task_instance_changed BEFORE UPDATE ON task_instances
FOR EACH ROW
WHEN (NEW.state IS DISTINCT FROM OLD.state OR NEW.try_number IS DISTINCT FROM OLD.try_number
  OR NEW.updated_at IS DISTINCT FROM OLD.updated_at)
EXECUTE FUNCTION task_instance_changed();
