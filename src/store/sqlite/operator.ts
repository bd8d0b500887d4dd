/**
 * Operator actions (clear, mark, a user's note) applied in one transaction, the scheduler's note-only writes for waiting
 * task instances, and the previous-run lookup depends_on_past needs.
 */
import type { Database } from "bun:sqlite";
import { groupPreviousRunStates, type PreviousRunRow } from "../previous-runs";
import {
  assertStorableText,
  type OperatorChange,
  type OperatorChangeApplied,
  type PreviousRunStates,
  type RunStateChange,
  type TaskClear,
  type TaskNoteUpdate,
} from "../../domain";
import { CHANGE_STAMP_SQL, applyTransitions, bumpChangeCounter } from "./task-instances";

const CLEAR_SQL = `UPDATE task_instances SET state = ?, try_number = ?, max_tries = ?, queued_at = NULL, start_date = NULL,
    end_date = NULL, last_heartbeat = NULL, hostname = NULL, pid = NULL, executor = NULL, note = NULL, wait_reason = NULL, updated_at = ?,
    map_index = COALESCE(?, map_index), ${CHANGE_STAMP_SQL}
  WHERE id = ? AND state = ? AND try_number = ?
  RETURNING team, dag_id, run_id, task_id`;

function clearOne(db: Database, c: TaskClear, now: number): boolean {
  // RETURNING gives the new map_index; the XComs to delete are under the old one.
  bumpChangeCounter(db);
  const before = db.query("SELECT map_index FROM task_instances WHERE id = ?").get(c.id) as { map_index: number } | null;
  const row = db.query(CLEAR_SQL).get(c.to ?? "none", c.try_number, c.max_tries, now, c.map_index ?? null, c.id, c.from, c.from_try) as {
    team: string;
    dag_id: string;
    run_id: string;
    task_id: string;
  } | null;
  if (!row || !before) return false;
  // The next try must not read what the cleared one pushed (only this instance's: a mapped task's others keep theirs).
  db.query("DELETE FROM xcom WHERE team = ? AND dag_id = ? AND run_id = ? AND task_id = ? AND map_index = ?").run(
    row.team,
    row.dag_id,
    row.run_id,
    row.task_id,
    before.map_index,
  );
  return true;
}

function changeRun(db: Database, r: RunStateChange, now: number): boolean {
  if (r.from.length === 0) return false;
  const sets = ["state = ?"];
  const params: (string | number | null)[] = [r.to];
  // Dates move only when the state does: re-marking a run into its own state keeps them.
  const onChange = (column: string, value: string, ...values: number[]) => {
    sets.push(`${column} = CASE WHEN state = ? THEN ${column} ELSE ${value} END`);
    params.push(r.to, ...values);
  };
  if (r.to === "queued") onChange("queued_at", "?", now), onChange("start_date", "NULL"), onChange("end_date", "NULL");
  else if (r.to === "running") onChange("start_date", "COALESCE(start_date, ?)", now), onChange("end_date", "NULL");
  else onChange("end_date", "?", now);
  if (r.note !== undefined) sets.push("note = ?"), params.push(r.note);
  const marks = r.from.map(() => "?").join(", ");
  return (
    db.query(`UPDATE dag_runs SET ${sets.join(", ")} WHERE id = ? AND state IN (${marks})`).run(...params, r.id, ...r.from).changes > 0
  );
}

export function applyOperatorChange(db: Database, change: OperatorChange, now: Date): OperatorChangeApplied {
  const t = now.getTime();
  // Refused before anything is written, as Postgres refuses it (NUL, lone surrogates).
  for (const n of change.user_notes ?? []) assertStorableText(n.note, "note");
  // A user's note only: no stamp, no updated_at (ports/api.ts), so the scheduler's change feed does not read it again.
  const userNote = db.query("UPDATE task_instances SET user_note = ? WHERE id = ?");
  return db
    .transaction(() => ({
      transitions: applyTransitions(db, change.transitions ?? [], now),
      clears: (change.clears ?? []).map((c) => clearOne(db, c, t)),
      runs: (change.runs ?? []).map((r) => changeRun(db, r, t)),
      user_notes: (change.user_notes ?? []).map((n) => userNote.run(n.note, n.id).changes > 0),
    }))
    .immediate();
}

export function setTaskInstanceNotes(db: Database, updates: TaskNoteUpdate[]): boolean[] {
  if (updates.length === 0) return [];
  const stmt = db.query(
    "UPDATE task_instances SET note = ?, wait_reason = CASE WHEN ? THEN ? ELSE wait_reason END WHERE id = ? AND state = ?",
  );
  // wait_reason absent leaves the scheduler's reason as it is.
  return db
    .transaction(() => updates.map((u) => stmt.run(u.note, u.wait_reason !== undefined, u.wait_reason ?? null, u.id, u.state).changes > 0))
    .immediate();
}

const PREVIOUS_SQL = `WITH asked AS (
    SELECT r.id AS asked_id,
      (SELECT p.id FROM dag_runs p WHERE p.team = r.team AND p.dag_id = r.dag_id AND p.logical_date < r.logical_date
        ORDER BY p.logical_date DESC, p.id DESC LIMIT 1) AS prev_id
    FROM dag_runs r WHERE r.id IN (SELECT value FROM json_each(?)) AND r.logical_date IS NOT NULL
  )
  SELECT a.asked_id, p.run_id, ti.task_id, ti.state
  FROM asked a JOIN dag_runs p ON p.id = a.prev_id LEFT JOIN task_instances ti ON ti.dag_run_id = p.id`;

export function listPreviousRunStates(db: Database, dagRunIds: number[]): PreviousRunStates[] {
  if (dagRunIds.length === 0) return [];
  const rows = db.query(PREVIOUS_SQL).all(JSON.stringify(dagRunIds)) as PreviousRunRow[];
  return groupPreviousRunStates(dagRunIds, rows);
}
