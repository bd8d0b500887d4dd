/** Task instances: lookups, the batched conditional transitions every state change goes through, heartbeats. */
import type { ActiveTaskCounts, ListOptions, Page, TaskInstanceRecord, TaskTransition } from "../../domain";
import { STAMP_CHANGE } from "./change-stamp";
import { ACTIVE_COUNTS_SQL, toActiveCounts, type ActiveCountRow } from "../active-counts";
import { TI_SORTABLE } from "../sortable";
import { roundsOf } from "../transition-rounds";
import { MASKED_FORM, PATCH_FIELD_NAMES, PATCH_FIELDS, formOf, patchValue, type ApplyForm } from "./apply-sql";
import { execute, notIndexed, numbersOfArrayText, Params, planWithoutSeqScans, query, writeByIds, type Db, type Pool } from "./client";
import { pgPageClause } from "./list-query";
import { sameChanges, type SameChange, type SameChanges } from "./same-changes";
import { API_TI_COLUMNS, toApiTaskInstance, TI_COLUMNS, toTaskInstance, type TaskInstanceRow } from "./rows";
import { applyPairs } from "./transition-pairs";

// The other Postgres files (operator, reapers, run states) split their batches the same way.
export { roundsOf };

export async function getTaskInstance(
  db: Db,
  team: string,
  dagId: string,
  runId: string,
  taskId: string,
  mapIndex: number,
): Promise<TaskInstanceRecord | null> {
  const [row] = await query<TaskInstanceRow>(
    db,
    `SELECT ${API_TI_COLUMNS} FROM task_instances
     WHERE dag_run_id = (SELECT r.id FROM dag_runs r WHERE r.team = $1 AND r.dag_id = $2 AND r.run_id = $3) AND task_id = $4
       AND map_index = $5`,
    [team, dagId, runId, taskId, mapIndex],
  );
  return row ? toApiTaskInstance(row) : null;
}

export async function getTaskInstanceById(db: Db, id: number): Promise<TaskInstanceRecord | null> {
  const [row] = await query<TaskInstanceRow>(db, `SELECT ${TI_COLUMNS} FROM task_instances WHERE id = $1`, [id]);
  return row ? toTaskInstance(row) : null;
}

export async function listTaskInstances(
  db: Db,
  team: string,
  dagId: string,
  runId: string,
  opts: ListOptions = {},
): Promise<Page<TaskInstanceRecord>> {
  const p = new Params();
  // Through UNIQUE (team, dag_id, run_id) to the run, then UNIQUE (dag_run_id, task_id) to its task instances.
  const w = ` WHERE dag_run_id = (SELECT r.id FROM dag_runs r WHERE r.team = ${p.add(team)} AND r.dag_id = ${p.add(dagId)} AND r.run_id = ${p.add(runId)})`;
  const filterParams = [...p.values];
  const page = pgPageClause(opts, TI_SORTABLE, "id", "id", p);
  const rows = await query<TaskInstanceRow>(db, `SELECT ${API_TI_COLUMNS} FROM task_instances${w}${page}`, p.values);
  const [{ n }] = (await query<{ n: number }>(db, `SELECT count(*) AS n FROM task_instances${w}`, filterParams)) as [{ n: number }];
  return { items: rows.map(toApiTaskInstance), total: n };
}

/**
 * A statement to run in place of the batch's UPDATE (its form's parameters first, then `params`) that still
 * answers the applied ordinalities as `ord`: webhooks.ts wraps the UPDATE to write outbox rows in the same
 * statement, inline-finish.ts adds the ends' XComs and lines. `form`: the one its SQL was written in (default
 * the masked form; a shaped one only for the batch it was built from, or a round of it).
 */
export interface ApplyStatement {
  sql: string;
  params: unknown[];
  form?: ApplyForm;
}

/**
 * The SET list of one transition as plain parameters: the state, updated_at, the fields its patch sets, and
 * wait_reason cleared unless the patch sets it (applyOne's single row, applySameChange's group).
 */
function setClause(p: Params, t: TaskTransition, now: Date): string {
  const sets = [`state = ${p.add(t.to)}`, `updated_at = ${p.add(now)}`, STAMP_CHANGE];
  if (t.patch?.wait_reason === undefined) sets.push("wait_reason = NULL");
  for (const [f, type] of PATCH_FIELDS) {
    const v = t.patch?.[f];
    if (v !== undefined) sets.push(`${f} = ${p.add(patchValue(v))}::${type}`);
  }
  return sets.join(", ");
}

/**
 * One transition as a plain UPDATE naming only the fields its patch sets: about half the time of the batch UPDATE
 * for one row (no arrays to encode, unnest or join), and one row is what an inline task's outcome, an
 * agent's report and a start write. One SQL text per set of fields, so a handful of prepared statements.
 */
async function applyOne(db: Db, t: TaskTransition, now: Date): Promise<boolean> {
  const p = new Params();
  const sets = setClause(p, t, now);
  const guard = t.try_number === undefined ? "" : ` AND try_number = ${p.add(t.try_number)}`;
  const where = `id = ${p.add(t.id)} AND state = ANY(${p.add(t.from)}::text[])${guard}`;
  return (await execute(db, `UPDATE task_instances SET ${sets} WHERE ${where}`, p.values)) > 0;
}

async function applyRound(
  db: Db,
  transitions: readonly TaskTransition[],
  indexes: number[],
  now: Date,
  applied: boolean[],
  statement?: ApplyStatement,
): Promise<void> {
  const batch = indexes.map((i) => transitions[i]!).filter((t) => t.from.length > 0);
  const positions = indexes.filter((i) => transitions[i]!.from.length > 0);
  if (batch.length === 0) return;
  if (batch.length === 1 && !statement) {
    applied[positions[0]!] = await applyOne(db, batch[0]!, now);
    return;
  }
  const form = statement ? (statement.form ?? MASKED_FORM) : formOf(batch);
  const sql = statement ? statement.sql : form.sql("u.ord");
  const rows = await query<{ ord: number }>(db, sql, [...form.params(batch, now), ...(statement?.params ?? [])]);
  for (const r of rows) applied[positions[r.ord - 1]!] = true;
}

/**
 * One UPDATE for a group of equal changes (sameChanges: a first sweep schedules thousands of roots with one
 * waiting note): the ids as one array literal, the patch as plain parameters sent once instead of once per row
 * (the masked UPDATE sent 9,872 copies of the note, ~1 MB, and the driver encoded 17 arrays element by element),
 * and the ids that applied back as one array text. Only the primary key may find the rows (applySameChanges):
 * joined to the ids, the state condition led a planner without statistics for the new rows to read and hash
 * every task instance not yet scheduled (~96,000 at a first sweep) for each chunk it wrote.
 */
async function applySameChange(
  db: Db,
  transitions: readonly TaskTransition[],
  g: SameChange,
  now: Date,
  applied: boolean[],
): Promise<void> {
  const t = g.change;
  if (t.from.length === 0) return;
  const p = new Params();
  const sets = setClause(p, t, now);
  const ids = p.add(`{${g.positions.map((i) => transitions[i]!.id).join(",")}}`);
  const guard = t.try_number === undefined ? "" : ` AND ${notIndexed(`t.try_number = ${p.add(t.try_number)}`)}`;
  const sql = `WITH applied AS (
  UPDATE task_instances t SET ${sets}
  WHERE t.id = ANY(${ids}::bigint[]) AND ${notIndexed(`t.state = ANY(${p.add(t.from)}::text[])`)}${guard}
  RETURNING t.id
)
SELECT array_agg(id)::text AS ids FROM applied`;
  const [row] = await query<{ ids: string | null }>(db, sql, p.values);
  const changed = new Set(numbersOfArrayText(row?.ids));
  for (const i of g.positions) if (changed.has(transitions[i]!.id)) applied[i] = true;
}

/**
 * A batch naming each row once, as groups of equal changes and the rest: several statements, one transaction,
 * planned without sequential scans (planWithoutSeqScans: without it, a nested loop over a sequential scan took
 * 4 s for 512 rows, and a plan cached then outlives the burst).
 */
async function applySameChanges(sql: Pool, transitions: readonly TaskTransition[], split: SameChanges, now: Date): Promise<boolean[]> {
  const applied = transitions.map(() => false);
  const { groups, rest } = split;
  await sql.begin(async (db) => {
    await Promise.all([
      planWithoutSeqScans(db),
      ...groups.map((g) => applySameChange(db, transitions, g, now, applied)),
      rest.length ? applyRound(db, transitions, rest, now, applied) : null,
    ]);
  });
  return applied;
}

/** The largest batch applyTransitions writes as one pairs statement (transition-pairs.ts). */
const PAIRS_MAX_TRANSITIONS = 256;

/** Applies the batch round by round on `db` (a pool for one round, else a transaction the caller opened). */
export async function applyTransitionsOn(
  db: Db,
  transitions: readonly TaskTransition[],
  now: Date,
  statement?: ApplyStatement,
): Promise<boolean[]> {
  const applied = transitions.map(() => false);
  for (const round of roundsOf(transitions)) await applyRound(db, transitions, round, now, applied, statement);
  return applied;
}

export async function applyTransitions(
  sql: Pool,
  transitions: TaskTransition[],
  now: Date,
  statement?: ApplyStatement,
): Promise<boolean[]> {
  if (transitions.length === 0) return [];
  // One round is one statement, atomic by itself; several rounds need a transaction around them.
  const rounds = roundsOf(transitions).length;
  if (rounds === 1) {
    // Webhook outbox statements wrap the batch's UPDATE: those batches stay one statement.
    const split = statement ? null : sameChanges(transitions, PATCH_FIELD_NAMES);
    if (split?.groups.length) return applySameChanges(sql, transitions, split, now);
    return writeByIds(sql, { rows: transitions.length, statements: 1 }, (db) => applyTransitionsOn(db, transitions, now, statement));
  }
  // A row changed twice (an inline start: none → scheduled → running): one statement, not BEGIN, two, COMMIT.
  // Only for small batches (a hop's starts): for a sweep's thousands of pairs the alternatives statement was
  // several times slower than the two plain UPDATEs (scripts/bench sensors, 10,000 tasks queued on Postgres).
  if (rounds === 2 && !statement && transitions.length <= PAIRS_MAX_TRANSITIONS) return applyPairs(sql, transitions, now);
  return writeByIds(sql, { rows: transitions.length, statements: rounds }, (tx) => applyTransitionsOn(tx, transitions, now, statement));
}

export async function heartbeat(db: Db, tiId: number, tryNumber: number, now: Date): Promise<boolean> {
  const changed = await execute(
    db,
    `UPDATE task_instances SET last_heartbeat = $1 WHERE id = $2 AND ${notIndexed("try_number = $3 AND state = 'running'")}`,
    [now, tiId, tryNumber],
  );
  return changed > 0;
}

/** Queued or running task instances per team and DAG, and each team's usage (active-counts.ts). */
export async function countActiveTaskInstances(db: Db): Promise<ActiveTaskCounts> {
  return toActiveCounts(await query<ActiveCountRow>(db, ACTIVE_COUNTS_SQL));
}
