/**
 * The WHERE terms of SQLite's two partial task instance indexes (migration 0024). SQLite uses a partial index only
 * for a query that repeats its terms, so every query meant to read through one adds them beside its own condition.
 * `t`: the table's alias with its dot, when the query names one.
 */

/**
 * task_instances_state leaves out the two states every task instance passes through in bulk (none from its insert,
 * success at its end): a query by any other state adds this term. Two inequalities, not `NOT IN`: SQLite evaluates a
 * partial index's WHERE on every write of the table, and builds a temporary b-tree for an IN list of a few values.
 */
export const indexedState = (t = "") => `(${t}state <> 'none' AND ${t}state <> 'success')`;

/** task_instances_run_change holds rows written since their insert only (stamps start at 1; inserts are found by id). */
export const stamped = (t = "") => `${t}change_seq > 0`;
