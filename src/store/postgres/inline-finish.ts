/**
 * The end of inline tries on Postgres (InlineTryStore.finishInlineTries): the settled XComs and lines ride in
 * the transitions' own statement as data-modifying CTEs, so a batch of try ends is one statement, one round
 * trip and one commit (with its outbox rows when a webhook wants task events). Postgres runs every
 * data-modifying CTE whether or not the final SELECT reads it.
 */
import type { TaskTransition } from "../../domain";
import type { InlineTryEnd } from "../ports/inline-tries";
import { nextsToApply, type SettledTryEnds } from "../sqlite/inline-finish";
import { roundsOf } from "../transition-rounds";
import { query, type Pool } from "./client";
import { collapse } from "../transition-rounds";
import { logLinesInsertSql, logLinesParams } from "./logs";
import { xcomUpsertParams, xcomUpsertSql } from "./xcom";
import { formOf, MASKED_FORM } from "./apply-sql";
import { applyTransitionsOn, type ApplyStatement } from "./task-instances";

/**
 * The ends of a batch and their `next` starts (InlineTryStore): one statement when no webhook wants task events
 * and every row is named once (the starts gated on their ends in SQL: nextStatement), else the ends' statement
 * and then the starts of the ends that applied, in one transaction. `outbox`: the statement writing outbox rows.
 */
export async function finishTryEnds(
  sql: Pool,
  ends: readonly InlineTryEnd[],
  settled: SettledTryEnds,
  now: Date,
  outbox?: ApplyStatement,
): Promise<{ applied: boolean[]; nextApplied: boolean[] }> {
  const nextApplied = ends.map(() => false);
  // Gated in SQL on the end's row: a next with a scheduling goes as one change (none → running).
  const collapsed = nextsToApply(ends, settled, null).map((n) => ({
    i: n.i,
    next: n.scheduling ? collapse(n.scheduling, n.next) : n.next,
  }));
  const withNext = collapsed.flatMap((n) => (n.next ? [{ i: n.i, next: n.next }] : []));
  const once = withNext.length === collapsed.length && roundsOf([...settled.transitions, ...withNext.map((n) => n.next)]).length === 1;
  if (!outbox && once) {
    const applied = settled.transitions.map(() => false);
    const rows = await query<{ ord: number; next: boolean }>(sql, ...nextStatement(settled, withNext, now));
    for (const r of rows) {
      if (!r.next) applied[r.ord - 1] = true;
      else nextApplied[withNext[r.ord - 1]!.i] = true;
    }
    return { applied, nextApplied };
  }
  return (await sql.begin(async (tx) => {
    const applied = await applyTransitionsOn(tx, settled.transitions, now, tryEndsStatement(settled, now, outbox));
    let nexts = nextsToApply(ends, settled, applied);
    const scheduling = nexts.filter((n) => n.scheduling);
    const scheduled = scheduling.length
      ? await applyTransitionsOn(
          tx,
          scheduling.map((n) => n.scheduling!),
          now,
          outbox,
        )
      : [];
    nexts = nexts.filter((n) => !n.scheduling || scheduled[scheduling.indexOf(n)]);
    const done = nexts.length
      ? await applyTransitionsOn(
          tx,
          nexts.map((n) => n.next),
          now,
          outbox,
        )
      : [];
    for (const [k, n] of nexts.entries()) nextApplied[n.i] = done[k] === true;
    return { applied, nextApplied };
  })) as { applied: boolean[]; nextApplied: boolean[] };
}

/**
 * The ends (`a`, with their XComs and lines) and the starts (`s`) as one statement: a start's row applies only
 * when the end whose slot it takes is among the rows `a` changed (its gate is that end's id). Data-modifying
 * CTEs see the same snapshot but may read each other's RETURNING rows, and the two touch different rows.
 */
function nextStatement(settled: SettledTryEnds, withNext: readonly { i: number; next: TaskTransition }[], now: Date): [string, unknown[]] {
  const nexts = withNext.map((n) => n.next);
  const endsForm = formOf(settled.transitions);
  const startsForm = formOf(nexts);
  const writes = writeCtes(settled, now, endsForm.count + 1);
  const at = endsForm.count + writes.params.length;
  const starts = startsForm.sql("u.ord", at, { condition: "u.gate IN (SELECT id FROM a)" });
  const text = `WITH a AS (${endsForm.sql("u.ord, t.id")}), ${writes.ctes}, s AS (${starts})
SELECT ord, false AS next FROM a UNION ALL SELECT ord, true AS next FROM s`;
  const params = [
    ...endsForm.params(settled.transitions, now),
    ...writes.params,
    ...startsForm.params(
      nexts,
      now,
      withNext.map((n) => settled.transitions[n.i]!.id),
    ),
  ];
  return [text, params];
}

/**
 * The statement applying the settled transitions and writing their XComs and lines. `outbox`: the statement
 * that also writes outbox rows (webhooks.transitionsWithOutbox), whose CTE `a` is the applied transitions and
 * which ends in OUTBOX_TAIL; absent when no webhook wants task events. A batch naming a try twice runs it once
 * per round (task-instances.ts): the upserts and the lines' DO NOTHING make the repeat change nothing.
 */
export function tryEndsStatement(settled: SettledTryEnds, now: Date, outbox?: ApplyStatement): ApplyStatement {
  // The outbox statement is written in the masked form; without it, the ends' own form (every round of the
  // batch sets the same fields as the whole).
  const form = outbox ? (outbox.form ?? MASKED_FORM) : formOf(settled.transitions);
  const first = form.count + (outbox?.params.length ?? 0) + 1;
  const writes = writeCtes(settled, now, first);
  if (!outbox) return { sql: `WITH a AS (${form.sql("u.ord, t.id")}), ${writes.ctes} ${OUTBOX_TAIL}`, params: writes.params, form };
  if (!outbox.sql.startsWith("WITH a AS (") || !outbox.sql.endsWith(OUTBOX_TAIL))
    throw new Error("the outbox statement no longer has the shape WITH a AS (...), ... SELECT ord FROM a");
  const ctes = outbox.sql.slice(0, -OUTBOX_TAIL.length).trimEnd();
  return { sql: `${ctes}, ${writes.ctes} ${OUTBOX_TAIL}`, params: [...outbox.params, ...writes.params] };
}

/** How the outbox statement ends (webhooks.transitionsWithOutbox): the CTEs the ends add go before it. */
const OUTBOX_TAIL = "SELECT ord FROM a";

/**
 * Two CTEs (the XCom upsert and the lines' insert, the latter as appendLogBatches writes it), their
 * parameters numbered from `first`; they follow the statement's `a`, the applied transitions (an `id` column),
 * and an XCom is stored only with its try's end: a late end of a cleared try must not bring back the value the
 * clear deleted (sqlite/inline-finish.ts says why). Lines are kept either way: they belong to their try.
 */
function writeCtes(settled: SettledTryEnds, now: Date, first: number): { ctes: string; params: unknown[] } {
  const xcoms = xcomUpsertParams(settled.xcoms, now);
  const $ = (k: number) => `$${first + k}`;
  const $lines = (k: number) => $(xcoms.length + k);
  return {
    ctes: `xc AS (${xcomUpsertSql($, "a")}),\n     lg AS (${logLinesInsertSql($lines)})`,
    params: [...xcoms, logLinesParams(settled.lines)[0]],
  };
}
