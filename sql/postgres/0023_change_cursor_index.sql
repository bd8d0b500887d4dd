-- The incremental sweep finds the runs changed since its previous read by the change stamps (0018, 0022)
-- instead of by updated_at: its cursor is the previous read's snapshot, and a run changed since is one with a
-- task instance stamped by a transaction that snapshot did not see. Exact, where the updated_at cursor had to
-- reach 2 s back for replicas whose clocks run behind (and missed a write stamped further back until the next
-- full sweep). The index on updated_at served that read alone; this one takes its place, so a transition still
-- writes the same number of index entries.
CREATE INDEX task_instances_change ON task_instances (change_xid);
DROP INDEX task_instances_updated_at;
