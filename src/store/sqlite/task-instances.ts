/** Task instances: lookups, the batched conditional transitions every state change goes through, heartbeats. */
import { atomically } from "./atomic";
import type { Database, Statement } from "bun:sqlite";
import { indexedState } from "./partial-index-terms";
import {
  storableText,
  type ActiveTaskCounts,
  type ListOptions,
  type Page,
  type TaskInstancePatch,
  type TaskInstanceRecord,
  type TaskTransition,
} from "../../domain";
import { activeCountsSql, toActiveCounts, type ActiveCountRow } from "../active-counts";
import { TI_SORTABLE } from "../sortable";
import { pageClause } from "./list-query";
import { API_TI_COLUMNS, toApiTaskInstance, TI_COLUMNS, toTaskInstance, type TaskInstanceRow } from "./rows";

export function getTaskInstance(
  db: Database,
  team: string,
  dagId: string,
  runId: string,
  taskId: string,
  mapIndex: number,
): TaskInstanceRecord | null {
  const row = db
    .query(`SELECT ${API_TI_COLUMNS} FROM task_instances WHERE team = ? AND dag_id = ? AND run_id = ? AND task_id = ? AND map_index = ?`)
    .get(team, dagId, runId, taskId, mapIndex) as TaskInstanceRow | null;
  return row ? toApiTaskInstance(row) : null;
}

export function getTaskInstanceById(db: Database, id: number): TaskInstanceRecord | null {
  const row = db.query(`SELECT ${TI_COLUMNS} FROM task_instances WHERE id = ?`).get(id) as TaskInstanceRow | null;
  return row ? toTaskInstance(row) : null;
}

export function listTaskInstances(
  db: Database,
  team: string,
  dagId: string,
  runId: string,
  opts: ListOptions = {},
): Page<TaskInstanceRecord> {
  const page = pageClause(opts, TI_SORTABLE, "id", "id");
  const w = "WHERE team = ? AND dag_id = ? AND run_id = ?";
  const rows = db
    .query(`SELECT ${API_TI_COLUMNS} FROM task_instances ${w}${page.sql}`)
    .all(team, dagId, runId, ...page.params) as TaskInstanceRow[];
  const { n } = db.query(`SELECT count(*) AS n FROM task_instances ${w}`).get(team, dagId, runId) as { n: number };
  return { items: rows.map(toApiTaskInstance), total: n };
}

/** Patch fields in a fixed order, so equal patch shapes share one cached statement. */
const PATCH_FIELDS = [
  "try_number",
  "queued_at",
  "start_date",
  "end_date",
  "last_heartbeat",
  "hostname",
  "pid",
  "executor",
  "note",
  "wait_reason",
  "max_tries",
] as const satisfies readonly (keyof TaskInstancePatch)[];

/** Text from agents (notes, hostnames) keeps NUL and lone surrogates as U+FFFD, as Postgres must (json-safety.ts). */
const toColumn = (v: unknown): string | number | null =>
  v instanceof Date ? v.getTime() : typeof v === "string" ? storableText(v) : (v as number | null);

/**
 * The UPDATE for one transition's shape; db.query caches the prepared statement per distinct SQL text.
 * A wait belongs to the state it was recorded in, so a transition clears wait_reason unless its patch sets it.
 */
function transitionSql(t: TaskTransition, fields: readonly string[]): string {
  const clearWait = fields.includes("wait_reason") ? [] : ["wait_reason = NULL"];
  const sets = ["state = ?", "updated_at = ?", "change_seq = ?", ...clearWait, ...fields.map((f) => `${f} = ?`)];
  const marks = t.from.map(() => "?").join(", ");
  return `UPDATE task_instances SET ${sets.join(", ")} WHERE id = ? AND state IN (${marks})${t.try_number !== undefined ? " AND try_number = ?" : ""}`;
}

/**
 * Moves the change counter once for a batch of `count` writes and returns the stamp before the first (write i
 * takes stamp + 1 + i): loadRunChanges from a cursor reads rows stamped after it (migration 0018). Stamping in
 * the UPDATE spares each row the trigger's second write; each write its own number, so a row written twice in
 * a batch (scheduled, then started) is never taken for a write that did not stamp.
 */
function changeStamps(db: Database, count: number): number {
  const [row] = db.query("UPDATE task_instance_change_counter SET seq = seq + ? WHERE id = 1 RETURNING seq").values(count) as [number][];
  return row![0] - count;
}

/**
 * The change stamp of a write made outside applyTransitions (clears, reapers, mapping): the counter's value once
 * bumpChangeCounter has moved it in the same transaction. Stamping in the statement, not by a trigger: a trigger
 * on task_instances made every UPDATE of the table 1.5-4x slower (scripts/bench tick, SQLite).
 */
export const CHANGE_STAMP_SQL = "change_seq = (SELECT seq FROM task_instance_change_counter WHERE id = 1)";

/** Moves the change counter once for the writes that follow in the same transaction (they stamp with CHANGE_STAMP_SQL). */
export function bumpChangeCounter(db: Database): void {
  db.query("UPDATE task_instance_change_counter SET seq = seq + 1 WHERE id = 1").run();
}

/**
 * Each database's transition UPDATEs by shape (shapeOf), so a batch builds and looks up each SQL text once, not
 * once per row: a first sweep writes ~10,000 rows of one shape in a process whose JIT is still cold, and
 * building the text, filtering the patch fields and hashing the text in db.query's cache for every row was
 * ~0.25 of that write's CPU (9,872 rows: 301-308 → ~220 ms, medians of alternating cold processes).
 */
const statementsByShape = new WeakMap<Database, Map<number, Statement>>();

/** What transitionSql's text depends on, as a number: a bit per set patch field, the try guard, the from-state count. */
function shapeOf(t: TaskTransition): number {
  let shape = t.try_number === undefined ? 0 : 1;
  const patch = t.patch;
  if (patch) for (let i = 0; i < PATCH_FIELDS.length; i++) if (patch[PATCH_FIELDS[i]!] !== undefined) shape |= 2 << i;
  return shape + t.from.length * (2 << PATCH_FIELDS.length);
}

/** The UPDATE for `t`'s shape, made on first use. */
function transitionStatement(db: Database, t: TaskTransition): Statement {
  let byShape = statementsByShape.get(db);
  if (!byShape) statementsByShape.set(db, (byShape = new Map()));
  const shape = shapeOf(t);
  let statement = byShape.get(shape);
  if (!statement) {
    const patch = t.patch ?? {};
    statement = db.query(
      transitionSql(
        t,
        PATCH_FIELDS.filter((f) => patch[f] !== undefined),
      ),
    );
    byShape.set(shape, statement);
  }
  return statement;
}

export function applyTransitions(db: Database, transitions: TaskTransition[], now: Date): boolean[] {
  if (transitions.length === 0) return [];
  const t0 = now.getTime();
  return atomically(db, () => {
    const stamp = changeStamps(db, transitions.length);
    return transitions.map((t, i) => {
      if (t.from.length === 0) return false;
      // transitionSql's order: state, updated_at, change_seq, the set patch fields, id, from-states, try.
      const params: (string | number | null)[] = [t.to, t0, stamp + 1 + i];
      const patch = t.patch;
      if (patch)
        for (const f of PATCH_FIELDS) {
          const v = patch[f];
          if (v !== undefined) params.push(toColumn(v));
        }
      params.push(t.id, ...t.from);
      if (t.try_number !== undefined) params.push(t.try_number);
      return transitionStatement(db, t).run(...params).changes > 0;
    });
  });
}

export function heartbeat(db: Database, tiId: number, tryNumber: number, now: Date): boolean {
  return (
    db
      .query("UPDATE task_instances SET last_heartbeat = ? WHERE id = ? AND try_number = ? AND state = 'running'")
      .run(now.getTime(), tiId, tryNumber).changes > 0
  );
}

const ACTIVE_COUNTS_SQL = activeCountsSql(indexedState());

/** Queued or running task instances per team and DAG, and each team's usage (active-counts.ts). */
export function countActiveTaskInstances(db: Database): ActiveTaskCounts {
  return toActiveCounts(db.query(ACTIVE_COUNTS_SQL).all() as ActiveCountRow[]);
}
