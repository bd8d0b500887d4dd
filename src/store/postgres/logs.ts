/** Task logs, keyed (ti, try, seq) so a resent batch is ignored rather than duplicated. */
import { storableText, type LogLineRecord } from "../../domain";
import type { LogBatch } from "../ports/task-log";
import { DEFAULT_LOG_READ_LIMIT } from "../sqlite/logs";
import { arrayParam, execute, query, type Db } from "./client";

/** One INSERT for the whole batch; seq = firstSeq + position. */
export async function appendLogs(
  db: Db,
  tiId: number,
  tryNumber: number,
  firstSeq: number,
  lines: Omit<LogLineRecord, "seq">[],
): Promise<void> {
  if (lines.length === 0) return;
  await execute(
    db,
    `INSERT INTO task_logs (ti_id, try_number, seq, ts, stream, line)
     SELECT $1, $2, $3 + u.ord - 1, u.ts, u.stream, u.line
     FROM unnest($4::timestamptz[], $5::text[], $6::text[]) WITH ORDINALITY AS u(ts, stream, line, ord)
     ON CONFLICT (ti_id, try_number, seq) DO NOTHING`,
    [
      tiId,
      tryNumber,
      firstSeq,
      arrayParam(lines.map((l) => l.timestamp)),
      lines.map((l) => l.stream),
      // NUL and lone surrogates become U+FFFD (json-safety.ts): a log keeps every line, on both stores alike.
      lines.map((l) => storableText(l.line)),
    ],
  );
}

/** Many tries' lines as one INSERT over a JSON recordset (one round trip, one commit for all). */
export async function appendLogBatches(db: Db, batches: readonly LogBatch[]): Promise<void> {
  const [lines, count] = logLinesParams(batches);
  if (count === 0) return;
  await execute(
    db,
    logLinesInsertSql((k) => `$${k + 1}`),
    [lines],
  );
}

/**
 * The insert of many tries' lines as one INSERT over a JSON recordset; `$` names parameter k (appendLogBatches,
 * inline try ends, an agent's last lines with its end). `when`: a condition the whole insert waits on.
 */
export const logLinesInsertSql = (
  $: (k: number) => string,
  when?: string,
) => `INSERT INTO task_logs (ti_id, try_number, seq, ts, stream, line)
     SELECT u.ti_id, u.try_number, u.seq, u.ts, u.stream, u.line
     FROM json_to_recordset(${$(0)}::text::json) AS u(ti_id bigint, try_number int, seq int, ts timestamptz, stream text, line text)${when ? `\n     WHERE ${when}` : ""}
     ON CONFLICT (ti_id, try_number, seq) DO NOTHING`;

/** logLinesInsertSql's one parameter: the lines as one JSON text, a line's seq counted from its batch's first_seq. */
export function logLinesParams(batches: readonly LogBatch[]): [string, number] {
  // NUL and lone surrogates become U+FFFD (json-safety.ts).
  const rows: unknown[] = [];
  for (const b of batches)
    for (const [i, l] of b.lines.entries())
      rows.push({
        ti_id: b.ti_id,
        try_number: b.try_number,
        seq: b.first_seq + i,
        ts: l.timestamp,
        stream: l.stream,
        line: storableText(l.line),
      });
  return [JSON.stringify(rows), rows.length];
}

/** Lines with seq > afterSeq (default: all, including seq 0), in seq order, at most `limit`. */
export async function readLogs(
  db: Db,
  tiId: number,
  tryNumber: number,
  afterSeq = -1,
  limit = DEFAULT_LOG_READ_LIMIT,
): Promise<LogLineRecord[]> {
  return query<LogLineRecord>(
    db,
    "SELECT seq, ts AS timestamp, stream, line FROM task_logs WHERE ti_id = $1 AND try_number = $2 AND seq > $3 ORDER BY seq LIMIT $4",
    [tiId, tryNumber, afterSeq, limit],
  );
}
