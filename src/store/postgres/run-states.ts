/**
 * Many run state changes at once (the scheduler's tick; the first sweep after a start moves thousands of
 * runs to running): one UPDATE over parallel arrays instead of a round trip per run.
 */
import { DAG_RUN_STATES, isTerminalDagRunState } from "../../domain";
import type { DagRunStateChange } from "../ports/scheduler";
import { query, type Db, type Pool } from "./client";
import { roundsOf } from "./task-instances";

const TERMINAL = DAG_RUN_STATES.filter(isTerminalDagRunState)
  .map((s) => `'${s}'`)
  .join(", ");

/**
 * setDagRunState's rules per row: running keeps a start_date already set and clears end_date, queued
 * clears end_date, a terminal state sets it; a note is written only when the change carries one. RETURNING
 * the ordinality tells which inputs applied; `r.id = ANY($2)` lets the planner go through the primary key.
 */
const SET_STATES_SQL = `
UPDATE dag_runs r SET
  state = u.to_state,
  start_date = CASE WHEN u.to_state = 'running' THEN COALESCE(r.start_date, $1) ELSE r.start_date END,
  end_date = CASE WHEN u.to_state IN ('running', 'queued') THEN NULL WHEN u.to_state IN (${TERMINAL}) THEN $1 ELSE r.end_date END,
  note = CASE WHEN u.has_note = 1 THEN u.note ELSE r.note END
FROM unnest($2::bigint[], $3::text[], $4::text[], $5::int[], $6::text[])
  WITH ORDINALITY AS u(id, from_states, to_state, has_note, note, ord)
WHERE r.id = ANY($2::bigint[]) AND r.id = u.id
  AND r.state = ANY(string_to_array(u.from_states, ','))
RETURNING u.ord`;

/** Each change as setDagRunState would make it, in one transaction; per input, whether it applied. */
export async function setDagRunStates(sql: Pool, changes: readonly DagRunStateChange[], now: Date): Promise<boolean[]> {
  const applied = changes.map(() => false);
  // A run named twice needs a second statement to see the first change (one UPDATE touches a row once).
  const rounds = roundsOf(changes).map((round) => round.filter((i) => changes[i]!.from.length > 0));
  const work = rounds.filter((r) => r.length > 0);
  if (work.length === 0) return applied;
  const run = async (db: Db) => {
    for (const round of work) await applyRound(db, changes, round, now, applied);
  };
  if (work.length === 1) await run(sql);
  else await sql.begin(run);
  return applied;
}

async function applyRound(db: Db, changes: readonly DagRunStateChange[], round: number[], now: Date, applied: boolean[]): Promise<void> {
  const batch = round.map((i) => changes[i]!);
  const rows = await query<{ ord: number }>(db, SET_STATES_SQL, [
    now,
    batch.map((c) => c.id),
    batch.map((c) => c.from.join(",")),
    batch.map((c) => c.to),
    batch.map((c) => (c.note === undefined ? 0 : 1)), // an int array: the driver sends no boolean[]
    batch.map((c) => c.note ?? null),
  ]);
  for (const r of rows) applied[round[Number(r.ord) - 1]!] = true;
}
