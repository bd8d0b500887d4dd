/**
 * Reliability SQL: the reapers' candidate reads and their guarded writes, and the dispatch-attempt
 * bookkeeping. Reads return every candidate; the thresholds are decided in pure code (reaper-rules.ts).
 */
import type { DispatchBackoff, OrphanCandidate, ReapTaskCandidate, TaskReap } from "../../domain";
import { STAMP_CHANGE } from "./change-stamp";
import { arrayParam, execute, notIndexed, query, writeByIds, type Db, type Pool } from "./client";
import { roundsOf } from "./task-instances";
import { STILL_MOVING_SQL } from "../still-moving";

const CANDIDATE_COLUMNS = "id, dag_run_id, dag_id, run_id, task_id, try_number, max_tries";

export async function listAgentLostCandidates(db: Db): Promise<ReapTaskCandidate[]> {
  return query<ReapTaskCandidate>(
    db,
    `SELECT ${CANDIDATE_COLUMNS}, last_heartbeat AS observed_at FROM task_instances
      WHERE state = 'running' AND last_heartbeat IS NOT NULL ORDER BY id`,
  );
}

export async function listDispatchLostCandidates(db: Db): Promise<ReapTaskCandidate[]> {
  return query<ReapTaskCandidate>(
    db,
    `SELECT ${CANDIDATE_COLUMNS}, queued_at AS observed_at FROM task_instances WHERE state = 'queued' ORDER BY id`,
  );
}

/** GREATEST ignores NULLs in Postgres: it is NULL only when every date is. */
export async function listOrphanCandidates(db: Db): Promise<OrphanCandidate[]> {
  return query<OrphanCandidate>(
    db,
    `SELECT r.id, r.dag_id, r.run_id, GREATEST(r.start_date, max(t.start_date), max(t.end_date)) AS last_activity
       FROM dag_runs r LEFT JOIN task_instances t ON t.dag_run_id = r.id
      WHERE r.state = 'running'
        AND NOT EXISTS (SELECT 1 FROM task_instances a WHERE a.dag_run_id = r.id AND ${STILL_MOVING_SQL})
      GROUP BY r.id ORDER BY r.id`,
  );
}

/**
 * One UPDATE per round over parallel arrays; the observed column (last_heartbeat for running, queued_at for
 * queued) must still be what the reaper saw (`IS NOT DISTINCT FROM`, so a null observation matches null).
 */
const REAP_SQL = `
UPDATE task_instances t SET state = u.to_state, end_date = $1, note = u.note, updated_at = $1, ${STAMP_CHANGE}
FROM unnest($2::bigint[], $3::int[], $4::text[], $5::timestamptz[], $6::text[], $7::text[])
  WITH ORDINALITY AS u(id, try_number, from_state, observed_at, note, to_state, ord)
WHERE t.id = ANY($2::bigint[]) AND t.id = u.id AND t.try_number = u.try_number AND t.state = u.from_state
  AND (CASE WHEN u.from_state = 'running' THEN t.last_heartbeat ELSE t.queued_at END) IS NOT DISTINCT FROM u.observed_at
RETURNING u.ord`;

export async function reapTaskInstances(sql: Pool, reaps: TaskReap[], now: Date): Promise<boolean[]> {
  if (!reaps.length) return [];
  const applied = reaps.map(() => false);
  const rounds = roundsOf(reaps);
  await writeByIds(sql, { rows: reaps.length, statements: rounds.length }, async (tx) => {
    for (const round of rounds) {
      const batch = round.map((i) => reaps[i]!);
      const rows = await query<{ ord: number }>(tx, REAP_SQL, [
        now,
        batch.map((r) => r.id),
        batch.map((r) => r.try_number),
        batch.map((r) => r.from),
        arrayParam(batch.map((r) => r.observed_at)),
        batch.map((r) => r.note),
        batch.map((r) => r.to),
      ]);
      for (const r of rows) applied[round[r.ord - 1]!] = true;
    }
  });
  return applied;
}

export async function reapOrphanedRun(sql: Pool, id: number, note: string, now: Date): Promise<boolean> {
  return (await sql.begin(async (tx) => {
    const failed = await execute(
      tx,
      `UPDATE dag_runs SET state = 'failed', end_date = $1, note = $2
        WHERE id = $3 AND ${notIndexed("state = 'running'")}
          AND NOT EXISTS (SELECT 1 FROM task_instances a WHERE a.dag_run_id = $3 AND ${STILL_MOVING_SQL})`,
      [now, note, id],
    );
    if (!failed) return false;
    await execute(
      tx,
      `UPDATE task_instances SET state = 'failed', end_date = $1, note = $2, wait_reason = NULL, updated_at = $1, ${STAMP_CHANGE}
        WHERE dag_run_id = $3 AND state = 'none'`,
      [now, note, id],
    );
    return true;
  })) as boolean;
}

export async function recordDispatchFailure(db: Db, tiId: number, tryNumber: number, error: string, now: Date): Promise<number> {
  const [row] = await query<{ attempts: number }>(
    db,
    `INSERT INTO dispatch_attempts (ti_id, try_number, attempts, next_at, last_error, updated_at) VALUES ($1, $2, 1, NULL, $3, $4)
     ON CONFLICT (ti_id, try_number) DO UPDATE SET attempts = dispatch_attempts.attempts + 1, next_at = NULL,
       last_error = excluded.last_error, updated_at = excluded.updated_at
     RETURNING attempts`,
    [tiId, tryNumber, error, now],
  );
  return row!.attempts;
}

export async function deferDispatch(sql: Pool, tiId: number, tryNumber: number, nextAt: Date, note: string, now: Date): Promise<boolean> {
  return (await sql.begin(async (tx) => {
    await execute(tx, "UPDATE dispatch_attempts SET next_at = $1, updated_at = $2 WHERE ti_id = $3 AND try_number = $4", [
      nextAt,
      now,
      tiId,
      tryNumber,
    ]);
    const moved = await execute(
      tx,
      `UPDATE task_instances SET state = 'scheduled', note = $1, wait_reason = NULL, updated_at = $2, ${STAMP_CHANGE}
        WHERE id = $3 AND ${notIndexed("try_number = $4 AND state IN ('queued', 'scheduled')")}`,
      [note, now, tiId, tryNumber],
    );
    return moved > 0;
  })) as boolean;
}

export async function listDispatchBackoffs(db: Db, now: Date): Promise<DispatchBackoff[]> {
  return query<DispatchBackoff>(
    db,
    "SELECT ti_id, try_number, attempts, next_at FROM dispatch_attempts WHERE next_at > $1 ORDER BY next_at",
    [now],
  );
}
