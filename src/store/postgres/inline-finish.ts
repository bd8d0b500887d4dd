/**
 * The end of inline tries on Postgres (InlineTryStore.finishInlineTries): the settled XComs and lines ride in
 * the transitions' own statement as data-modifying CTEs, so a batch of try ends is one statement, one round
 * trip and one commit (with its outbox rows when a webhook wants task events). Postgres runs every
 * data-modifying CTE whether or not the final SELECT reads it.
 */
import type { SettledTryEnds } from "../sqlite/inline-finish";
import { logLinesInsertSql, logLinesParams } from "./logs";
import { xcomUpsertParams, xcomUpsertSql } from "./xcom";
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

/** Two CTEs (the XCom upsert and the lines' insert, as setXComs and appendLogBatches write them), their parameters numbered from `first`. */
function writeCtes(settled: SettledTryEnds, now: Date, first: number): { ctes: string; params: unknown[] } {
  const xcoms = xcomUpsertParams(settled.xcoms, now);
  const $ = (k: number) => `$${first + k}`;
  const $lines = (k: number) => $(xcoms.length + k);
  return {
    ctes: `xc AS (${xcomUpsertSql($)}),\n     lg AS (${logLinesInsertSql($lines)})`,
    params: [...xcoms, ...logLinesParams(settled.lines)],
  };
}
