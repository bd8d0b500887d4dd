/**
 * Operator actions (clear, mark, a user's note) applied in one transaction, the scheduler's note-only writes for waiting
 * task instances, and the previous-run lookup depends_on_past needs.
 */
import { groupPreviousRunStates, type PreviousRunRow } from "../previous-runs";
import { STAMP_CHANGE } from "./change-stamp";
import {
  assertStorableText,
  type OperatorChange,
  type OperatorChangeApplied,
  type PreviousRunStates,
  type RunStateChange,
  type TaskClear,
  type TaskNoteUpdate,
  type TaskUserNote,
} from "../../domain";
import { arrayParam, execute, Params, planForRows, query, writeByIds, type Db, type Pool } from "./client";
import { applyTransitionsOn, roundsOf } from "./task-instances";

/** Clears the instance and, when it applied, deletes its XComs (the next try must not read the old ones). */
// Only this instance's XComs go (a mapped task's others keep theirs): `old` is its map_index before the clear.
const CLEAR_SQL = `WITH old AS (
    SELECT id, map_index FROM task_instances WHERE id = $4
  ), cleared AS (
    UPDATE task_instances t SET state = $7, try_number = $1, max_tries = $2, queued_at = NULL, start_date = NULL,
      end_date = NULL, last_heartbeat = NULL, hostname = NULL, pid = NULL, executor = NULL, note = NULL, wait_reason = NULL, updated_at = $3,
      ${STAMP_CHANGE},
      map_index = COALESCE($8::int, t.map_index)
    FROM old WHERE t.id = old.id AND t.state = $5 AND t.try_number = $6
    RETURNING t.team, t.dag_id, t.run_id, t.task_id, old.map_index
  ), gone AS (
    DELETE FROM xcom x USING cleared c
    WHERE x.team = c.team AND x.dag_id = c.dag_id AND x.run_id = c.run_id AND x.task_id = c.task_id AND x.map_index = c.map_index
  )
  SELECT count(*) AS n FROM cleared`;

async function clearOne(db: Db, c: TaskClear, now: Date): Promise<boolean> {
  const params = [c.try_number, c.max_tries, now, c.id, c.from, c.from_try, c.to ?? "none", c.map_index ?? null];
  const [row] = await query<{ n: number }>(db, CLEAR_SQL, params);
  return row!.n > 0;
}

async function changeRun(db: Db, r: RunStateChange, now: Date): Promise<boolean> {
  if (r.from.length === 0) return false;
  const p = new Params();
  const sets = [`state = ${p.add(r.to)}`];
  if (r.to === "queued") sets.push(`queued_at = ${p.add(now)}`, "start_date = NULL", "end_date = NULL");
  else if (r.to === "running") sets.push(`start_date = COALESCE(start_date, ${p.add(now)})`, "end_date = NULL");
  else sets.push(`end_date = ${p.add(now)}`);
  if (r.note !== undefined) sets.push(`note = ${p.add(r.note)}`);
  const sql = `UPDATE dag_runs SET ${sets.join(", ")} WHERE id = ${p.add(r.id)} AND state = ANY(${p.add(arrayParam(r.from))}::text[])`;
  return (await execute(db, sql, p.values)) > 0;
}

// A user's note only: no stamp, no updated_at (ports/api.ts), so the scheduler's change feed does not read it again.
async function setUserNote(db: Db, n: TaskUserNote): Promise<boolean> {
  return (await execute(db, "UPDATE task_instances SET user_note = $1 WHERE id = $2", [n.note, n.id])) > 0;
}

export async function applyOperatorChange(sql: Pool, change: OperatorChange, now: Date): Promise<OperatorChangeApplied> {
  // Refused before anything is written, with the field named (the driver's error would name neither).
  for (const n of change.user_notes ?? []) assertStorableText(n.note, "note");
  return (await sql.begin(async (tx) => {
    // A large mark (a run's thousands of tasks) reaches its rows by id, as applyTransitions' batches do.
    const marks = change.transitions ?? [];
    const [, transitions] = await Promise.all([planForRows(tx, marks.length), applyTransitionsOn(tx, marks, now)]);
    const clears: boolean[] = [];
    for (const c of change.clears ?? []) clears.push(await clearOne(tx, c, now));
    const runs: boolean[] = [];
    for (const r of change.runs ?? []) runs.push(await changeRun(tx, r, now));
    const user_notes: boolean[] = [];
    for (const n of change.user_notes ?? []) user_notes.push(await setUserNote(tx, n));
    return { transitions, clears, runs, user_notes };
  })) as OperatorChangeApplied;
}

// wait_reason absent (set_reason 0) leaves the scheduler's reason as it is. The scheduler's notes skip
// rows another transaction holds (SKIP LOCKED): such a row is being started or ended, which makes its note moot, and
// waiting for it deadlocked with an inline end that starts a waiting task in its slot (the end's row, then the
// successor's, against this statement's successor row, then the end's row: a fan-out stood still for Postgres's
// 1 s deadlock_timeout, every slot queued behind this statement's locks).
const NOTES_SQL = `UPDATE task_instances t SET note = u.note, wait_reason = CASE WHEN u.set_reason <> 0 THEN u.wait_reason ELSE t.wait_reason END
  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::text[]) WITH ORDINALITY AS u(id, state, note, set_reason, wait_reason, ord)
  WHERE t.id = ANY($1::bigint[]) AND t.id = u.id AND t.state = u.state
    AND (u.set_reason = 0 OR t.id IN (SELECT l.id FROM task_instances l WHERE l.id = ANY($1::bigint[]) FOR UPDATE SKIP LOCKED))
  RETURNING u.ord`;

export async function setTaskInstanceNotes(sql: Pool, updates: TaskNoteUpdate[]): Promise<boolean[]> {
  if (updates.length === 0) return [];
  const applied = updates.map(() => false);
  const run = async (db: Db, round: number[]) => {
    const batch = round.map((i) => updates[i]!);
    const rows = await query<{ ord: number }>(db, NOTES_SQL, [
      batch.map((u) => u.id),
      batch.map((u) => u.state),
      batch.map((u) => u.note),
      batch.map((u) => (u.wait_reason !== undefined ? 1 : 0)),
      batch.map((u) => u.wait_reason ?? null),
    ]);
    for (const r of rows) applied[round[r.ord - 1]!] = true;
  };
  const rounds = roundsOf(updates);
  await writeByIds(sql, { rows: updates.length, statements: rounds.length }, async (db) => {
    for (const round of rounds) await run(db, round);
  });
  return applied;
}

const PREVIOUS_SQL = `WITH asked AS (
    SELECT r.id AS asked_id,
      (SELECT p.id FROM dag_runs p WHERE p.team = r.team AND p.dag_id = r.dag_id AND p.logical_date < r.logical_date
        ORDER BY p.logical_date DESC, p.id DESC LIMIT 1) AS prev_id
    FROM dag_runs r WHERE r.id = ANY($1::bigint[]) AND r.logical_date IS NOT NULL
  )
  SELECT a.asked_id, p.run_id, ti.task_id, ti.state
  FROM asked a JOIN dag_runs p ON p.id = a.prev_id LEFT JOIN task_instances ti ON ti.dag_run_id = p.id`;

export async function listPreviousRunStates(db: Db, dagRunIds: number[]): Promise<PreviousRunStates[]> {
  if (dagRunIds.length === 0) return [];
  const rows = await query<PreviousRunRow>(db, PREVIOUS_SQL, [arrayParam(dagRunIds)]);
  return groupPreviousRunStates(dagRunIds, rows);
}
