/**
 * The change stamp every write of a task instance's state, try_number or updated_at sets in its own statement
 * (loadRunChanges reads a run's rows stamped by a transaction its cursor did not see: migration 0018). A BEFORE
 * UPDATE trigger set it until migration 0022: Postgres locks each row a BEFORE ROW trigger fires for before the
 * update itself, one more WAL record per row (a fan-out's end batches wrote 4.7 lock records a task, 12% of its
 * WAL) and a PL/pgSQL call per row. Inserts take the column's default, the inserting transaction.
 */
export const STAMP_CHANGE = "change_xid = pg_current_xact_id()";
