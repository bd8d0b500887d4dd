/**
 * The end of inline tries on Postgres (InlineTryStore.finishInlineTries): the settled XComs and lines ride in
 * the transitions' own statement as data-modifying CTEs, so a batch of try ends is one statement, one round
 * trip and one commit (with its outbox rows when a webhook wants task events). Postgres runs every
 * data-modifying CTE whether or not the final SELECT reads it.
 */
import { storableText } from "../../domain";
import type { SettledTryEnds } from "../sqlite/inline-finish";
import { UNMAPPED } from "../sqlite/xcom";
import { arrayParam } from "./client";
import { XCOM_COLUMNS } from "./rows";
import { APPLY_PARAM_COUNT, applySql, type ApplyStatement } from "./task-instances";

/**
 * The statement applying the settled transitions and writing their XComs and lines. `outbox`: the statement
 * that also writes outbox rows (webhooks.transitionsWithOutbox), which starts `WITH a AS (`; absent when no
 * webhook wants task events. A batch naming a try twice runs it once per round (task-instances.ts): the
 * upserts and the lines' DO NOTHING make the repeat change nothing.
 */
export function tryEndsStatement(settled: SettledTryEnds, now: Date, outbox?: ApplyStatement): ApplyStatement {
  const first = APPLY_PARAM_COUNT + (outbox?.params.length ?? 0) + 1;
  const writes = writeCtes(settled, now, first);
  if (!outbox) return { sql: `WITH ${writes.ctes}, a AS (${applySql("u.ord")}) SELECT ord FROM a`, params: writes.params };
  if (!outbox.sql.startsWith("WITH ")) throw new Error("the outbox statement no longer starts with its CTEs");
  return { sql: `WITH ${writes.ctes}, ${outbox.sql.slice("WITH ".length)}`, params: [...outbox.params, ...writes.params] };
}

/** Two CTEs (the XCom upsert and the lines' insert) over flat arrays, their parameters numbered from `first`. */
function writeCtes(settled: SettledTryEnds, now: Date, first: number): { ctes: string; params: unknown[] } {
  const $ = (k: number) => `$${first + k}`;
  const { xcoms } = settled;
  const lines = settled.lines.flatMap((b) => b.lines.map((l, i) => ({ b, l, seq: b.first_seq + i })));
  const ctes = `xc AS (INSERT INTO xcom (${XCOM_COLUMNS})
       SELECT u.team, u.dag_id, u.run_id, u.task_id, u.map_index, u.key, u.value::jsonb, ${$(7)}::timestamptz
       FROM unnest(${$(0)}::text[], ${$(1)}::text[], ${$(2)}::text[], ${$(3)}::text[], ${$(4)}::int[], ${$(5)}::text[], ${$(6)}::text[])
         AS u(team, dag_id, run_id, task_id, map_index, key, value)
       ON CONFLICT (team, dag_id, run_id, task_id, map_index, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp),
     lg AS (INSERT INTO task_logs (ti_id, try_number, seq, ts, stream, line)
       SELECT * FROM unnest(${$(8)}::bigint[], ${$(9)}::int[], ${$(10)}::int[], ${$(11)}::timestamptz[], ${$(12)}::text[], ${$(13)}::text[])
       ON CONFLICT (ti_id, try_number, seq) DO NOTHING)`;
  const params = [
    xcoms.map((r) => r.key.team),
    xcoms.map((r) => r.key.dag_id),
    xcoms.map((r) => r.key.run_id),
    xcoms.map((r) => r.key.task_id),
    xcoms.map((r) => r.key.map_index ?? UNMAPPED),
    xcoms.map((r) => r.key.key),
    xcoms.map((r) => r.json),
    now,
    lines.map((x) => x.b.ti_id),
    lines.map((x) => x.b.try_number),
    lines.map((x) => x.seq),
    arrayParam(lines.map((x) => x.l.timestamp)),
    lines.map((x) => x.l.stream),
    // NUL and lone surrogates become U+FFFD (json-safety.ts), as appendLogBatches stores them.
    lines.map((x) => storableText(x.l.line)),
  ];
  return { ctes, params };
}
