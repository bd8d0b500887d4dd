/**
 * Reliability SQL: the reapers' candidate reads and their guarded writes, and the dispatch-attempt
 * bookkeeping. Reads return every candidate; the thresholds are decided in pure code (reaper-rules.ts).
 */
import type { Database } from "bun:sqlite";
import { indexedState } from "./partial-index-terms";
import type { DispatchBackoff, OrphanCandidate, ReapTaskCandidate, TaskReap } from "../../domain";
import { date } from "./rows";
import { STILL_MOVING_SQL } from "../still-moving";
import { CHANGE_STAMP_SQL, bumpChangeCounter } from "./task-instances";

interface CandidateRow {
  id: number;
  dag_run_id: number;
  dag_id: string;
  run_id: string;
  task_id: string;
  try_number: number;
  max_tries: number;
  observed_at: number | null;
}

const toCandidate = (r: CandidateRow): ReapTaskCandidate => ({ ...r, observed_at: date(r.observed_at) });

export function listAgentLostCandidates(db: Database): ReapTaskCandidate[] {
  const rows = db
    .query(
      "SELECT id, dag_run_id, dag_id, run_id, task_id, try_number, max_tries, last_heartbeat AS observed_at FROM task_instances " +
        `WHERE state = 'running' AND ${indexedState()} AND last_heartbeat IS NOT NULL ORDER BY id`,
    )
    .all() as CandidateRow[];
  return rows.map(toCandidate);
}

export function listDispatchLostCandidates(db: Database): ReapTaskCandidate[] {
  const rows = db
    .query(
      `SELECT id, dag_run_id, dag_id, run_id, task_id, try_number, max_tries, queued_at AS observed_at FROM task_instances WHERE state = 'queued' AND ${indexedState()} ORDER BY id`,
    )
    .all() as CandidateRow[];
  return rows.map(toCandidate);
}

export function listOrphanCandidates(db: Database): OrphanCandidate[] {
  // max() over a scalar list returns NULL if any argument is NULL in SQLite, so fold NULLs to -1 first.
  const rows = db
    .query(
      `SELECT r.id, r.dag_id, r.run_id,
              max(COALESCE(r.start_date, -1), COALESCE(max(t.start_date), -1), COALESCE(max(t.end_date), -1)) AS last_activity
         FROM dag_runs r LEFT JOIN task_instances t ON t.dag_run_id = r.id
        WHERE r.state = 'running'
          AND NOT EXISTS (SELECT 1 FROM task_instances a WHERE a.dag_run_id = r.id AND ${STILL_MOVING_SQL})
        GROUP BY r.id ORDER BY r.id`,
    )
    .all() as { id: number; dag_id: string; run_id: string; last_activity: number }[];
  return rows.map((r) => ({ ...r, last_activity: r.last_activity < 0 ? null : new Date(r.last_activity) }));
}

export function reapTaskInstances(db: Database, reaps: TaskReap[], now: Date): boolean[] {
  if (!reaps.length) return [];
  const t = now.getTime();
  return db
    .transaction(() => {
      bumpChangeCounter(db);
      return reaps.map((r) => {
        const observed = r.from === "running" ? "last_heartbeat" : "queued_at";
        return (
          db
            .query(
              `UPDATE task_instances SET state = ?, end_date = ?, note = ?, updated_at = ?, ${CHANGE_STAMP_SQL}
                WHERE id = ? AND try_number = ? AND state = ? AND ${observed} IS ?`,
            )
            .run(r.to, t, r.note, t, r.id, r.try_number, r.from, r.observed_at ? r.observed_at.getTime() : null).changes > 0
        );
      });
    })
    .immediate();
}

export function reapOrphanedRun(db: Database, id: number, note: string, now: Date): boolean {
  const t = now.getTime();
  return db
    .transaction(() => {
      const failed = db
        .query(
          `UPDATE dag_runs SET state = 'failed', end_date = ?, note = ?
            WHERE id = ? AND state = 'running'
              AND NOT EXISTS (SELECT 1 FROM task_instances a WHERE a.dag_run_id = ? AND ${STILL_MOVING_SQL})`,
        )
        .run(t, note, id, id).changes;
      if (!failed) return false;
      bumpChangeCounter(db);
      db.query(
        `UPDATE task_instances SET state = 'failed', end_date = ?, note = ?, wait_reason = NULL, updated_at = ?, ${CHANGE_STAMP_SQL} WHERE dag_run_id = ? AND state = 'none'`,
      ).run(t, note, t, id);
      return true;
    })
    .immediate();
}

export function recordDispatchFailure(db: Database, tiId: number, tryNumber: number, error: string, now: Date): number {
  const row = db
    .query(
      `INSERT INTO dispatch_attempts (ti_id, try_number, attempts, next_at, last_error, updated_at) VALUES (?, ?, 1, NULL, ?, ?)
       ON CONFLICT (ti_id, try_number) DO UPDATE SET attempts = attempts + 1, next_at = NULL, last_error = excluded.last_error, updated_at = excluded.updated_at
       RETURNING attempts`,
    )
    .get(tiId, tryNumber, error, now.getTime()) as { attempts: number };
  return row.attempts;
}

export function deferDispatch(db: Database, tiId: number, tryNumber: number, nextAt: Date, note: string, now: Date): boolean {
  const t = now.getTime();
  return db
    .transaction(() => {
      db.query("UPDATE dispatch_attempts SET next_at = ?, updated_at = ? WHERE ti_id = ? AND try_number = ?").run(
        nextAt.getTime(),
        t,
        tiId,
        tryNumber,
      );
      bumpChangeCounter(db);
      return (
        db
          .query(
            `UPDATE task_instances SET state = 'scheduled', note = ?, wait_reason = NULL, updated_at = ?, ${CHANGE_STAMP_SQL} WHERE id = ? AND try_number = ? AND state IN ('queued', 'scheduled')`,
          )
          .run(note, t, tiId, tryNumber).changes > 0
      );
    })
    .immediate();
}

export function listDispatchBackoffs(db: Database, now: Date): DispatchBackoff[] {
  const rows = db
    .query("SELECT ti_id, try_number, attempts, next_at FROM dispatch_attempts WHERE next_at > ? ORDER BY next_at")
    .all(now.getTime()) as { ti_id: number; try_number: number; attempts: number; next_at: number }[];
  return rows.map((r) => ({ ...r, next_at: new Date(r.next_at) }));
}
