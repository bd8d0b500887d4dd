/**
 * A batch of transitions that changes some rows twice (two rounds), as ONE statement instead of a
 * transaction of two UPDATEs: BEGIN, UPDATE, UPDATE, COMMIT are four round trips, and an inline task's start
 * (none → scheduled → running in one batch) sits on every hop of a chain.
 *
 * Each row's transitions become alternatives, tried in order on the row's current version: for a pair
 * (a, b), "a then b" collapsed into one change (when b can follow a at all: a's target is one of b's from
 * states and the try guards agree), then "a alone", then "b alone"; a row changed once has one alternative.
 * The first alternative whose from-state and try guard hold is the one that applies, which is exactly what
 * applying a then b one after another does. The rows are locked first (FOR UPDATE reads the latest committed
 * version in READ COMMITTED), so the choice and the UPDATE see the same row even when a replica or an agent
 * changed it a moment before. Outbox rows (webhooks) need one change per transition: those batches keep the
 * transaction (task-instances.ts).
 */
import type { TaskTransition } from "../../domain";
import { collapse } from "../transition-rounds";
import { STAMP_CHANGE } from "./change-stamp";
import { query, type Db } from "./client";
import { PATCH_FIELDS, patchValue } from "./apply-sql";

/** One way a row may change: the collapsed transition and the inputs it answers for. */
type Alternative = { t: TaskTransition; answers: number[] };

/**
 * The alternatives of a batch of at most two transitions per row, in priority order within each row.
 * Pure. Transitions with no from-state never apply, so no alternative includes them.
 *
 * @example alternativesOf([{ id: 1, from: ["none"], to: "scheduled" }, { id: 1, from: ["scheduled"], to: "running" }])
 * // [{ t: { id: 1, from: ["none"], to: "running" }, answers: [0, 1] }, { …none→scheduled, answers: [0] }, { …scheduled→running, answers: [1] }]
 */
export function alternativesOf(transitions: readonly TaskTransition[]): Alternative[] {
  const byRow = new Map<number, number[]>();
  transitions.forEach((t, i) => {
    const list = byRow.get(t.id);
    if (list) list.push(i);
    else byRow.set(t.id, [i]);
  });
  const out: Alternative[] = [];
  for (const indexes of byRow.values()) {
    if (indexes.length > 2) throw new Error("alternativesOf takes at most two transitions per row");
    const [i, j] = indexes as [number, number | undefined];
    const a = transitions[i]!;
    const b = j === undefined ? undefined : transitions[j]!;
    const both = b && collapse(a, b);
    if (both) out.push({ t: both, answers: [i, j!] });
    if (a.from.length) out.push({ t: a, answers: [i] });
    if (b?.from.length) out.push({ t: b, answers: [j!] });
  }
  return out;
}

let pairsSql: string | undefined;
/** Built on first use: PATCH_FIELDS comes from task-instances.ts, which imports this file. */
function sql(): string {
  const fields = PATCH_FIELDS;
  const guards = (row: string) =>
    `${row}.state = ANY(string_to_array(u.from_states, ',')) AND (u.try_guard IS NULL OR ${row}.try_number = u.try_guard)`;
  // The alternatives go as one JSON text, not one array per column (less of the driver's CPU); the ids also
  // go as a bigint[] so the planner reaches the rows through the primary key (as the batch UPDATE does, apply-sql.ts).
  return (pairsSql ??= `
WITH u AS (
  SELECT * FROM json_to_recordset($2::text::json)
    AS u(ord int, id bigint, from_states text, to_state text, try_guard int, mask int, ${fields.map(([f, type]) => `${f} ${type}`).join(", ")})
), cur AS (
  SELECT id, state, try_number FROM task_instances WHERE id = ANY($3::bigint[]) ORDER BY id FOR UPDATE
), pick AS (
  SELECT DISTINCT ON (u.id) u.* FROM u JOIN cur ON cur.id = u.id WHERE ${guards("cur")} ORDER BY u.id, u.ord
)
UPDATE task_instances t SET
  state = u.to_state,
  updated_at = $1,
  ${STAMP_CHANGE},
  ${fields.map(([f], i) => `${f} = CASE WHEN u.mask & ${1 << i} <> 0 THEN u.${f} ELSE ${f === "wait_reason" ? "NULL" : `t.${f}`} END`).join(",\n  ")}
FROM pick u
WHERE t.id = ANY($3::bigint[]) AND t.id = u.id AND ${guards("t")}
RETURNING u.ord`);
}

/** Applies a batch touching each row at most twice in one statement; per input, whether it applied. */
export async function applyPairs(db: Db, transitions: readonly TaskTransition[], now: Date): Promise<boolean[]> {
  const applied = transitions.map(() => false);
  const alts = alternativesOf(transitions);
  if (!alts.length) return applied;
  const rows = alts.map(({ t }, i) => {
    const row: Record<string, unknown> = {
      ord: i + 1,
      id: t.id,
      from_states: t.from.join(","),
      to_state: t.to,
      try_guard: t.try_number ?? null,
      mask: PATCH_FIELDS.reduce((m, [f], k) => (t.patch && t.patch[f] !== undefined ? m | (1 << k) : m), 0),
    };
    // Notes and hostnames come from agents (an error message may carry NUL): kept, as U+FFFD (json-safety.ts).
    for (const [f] of PATCH_FIELDS) row[f] = patchValue(t.patch?.[f]);
    return row;
  });
  for (const r of await query<{ ord: number }>(db, sql(), [now, JSON.stringify(rows), [...new Set(alts.map((a) => a.t.id))]]))
    for (const i of alts[r.ord - 1]!.answers) applied[i] = true;
  return applied;
}
