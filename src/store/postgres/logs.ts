/** Task logs a batch to a row (log-chunks.ts), keyed (ti, try, first seq) so a resent batch adds nothing twice. */
import type { LogLineRecord } from "../../domain";
import { logRows, readChunkedLog, type LogChunkRow } from "../log-chunks";
import type { LogBatch } from "../ports/task-log";
import { DEFAULT_LOG_READ_LIMIT } from "../sqlite/logs";
import { execute, query, type Db } from "./client";

/**
 * What a row already stored for the same first seq keeps: its lines, plus those of the new batch past its last
 * seq (a batch resent with more lines); the same or fewer lines change nothing.
 */
const CHUNK_CONFLICT = `ON CONFLICT (ti_id, try_number, first_seq) DO UPDATE SET
       lines = (task_log_chunks.lines::jsonb || (SELECT jsonb_agg(x.e ORDER BY x.i)
         FROM jsonb_array_elements(excluded.lines::jsonb) WITH ORDINALITY AS x(e, i)
         WHERE x.i > task_log_chunks.last_seq - task_log_chunks.first_seq + 1))::text,
       last_seq = excluded.last_seq
     WHERE excluded.last_seq > task_log_chunks.last_seq`;

/** Stores lines numbered firstSeq, firstSeq+1, … as one row. */
export async function appendLogs(
  db: Db,
  tiId: number,
  tryNumber: number,
  firstSeq: number,
  lines: Omit<LogLineRecord, "seq">[],
): Promise<void> {
  await appendLogBatches(db, [{ ti_id: tiId, try_number: tryNumber, first_seq: firstSeq, lines }]);
}

/** Many tries' batches as one INSERT over a JSON recordset (one round trip, one commit for all). */
export async function appendLogBatches(db: Db, batches: readonly LogBatch[]): Promise<void> {
  const [json, count] = logLinesParams(batches);
  if (count === 0) return;
  await execute(
    db,
    logLinesInsertSql((k) => `$${k + 1}`),
    [json],
  );
}

/**
 * The insert of many tries' batches, a row each, over a JSON recordset; `$` names parameter k (appendLogBatches,
 * inline try ends, an agent's lines and its last lines with its end). `when`: a condition the whole insert waits
 * on. A batch's lines arrive as JSON and are stored as its text, not parsed into a value. The lines of a task
 * instance that is gone (its run deleted while it ran) are left out: the foreign key would refuse them, and with
 * them every other try's lines and end written in the same statement. The test is a scalar subquery, one primary
 * key probe a row: written as EXISTS, Postgres's generic plan joined the recordset (estimated 100 rows) to every
 * task instance by hash, and a 10,000-task fan-out on Postgres ran at half its rate.
 */
export const logLinesInsertSql = (
  $: (k: number) => string,
  when?: string,
) => `INSERT INTO task_log_chunks (ti_id, try_number, first_seq, last_seq, lines)
     SELECT u.ti_id, u.try_number, u.first_seq, u.last_seq, u.lines::text
     FROM json_to_recordset(${$(0)}::text::json) AS u(ti_id bigint, try_number int, first_seq int, last_seq int, lines json)
     WHERE (SELECT true FROM task_instances t WHERE t.id = u.ti_id)${when ? ` AND (${when})` : ""}
     ${CHUNK_CONFLICT}`;

/** logLinesInsertSql's one parameter (the batches as one JSON text) and how many rows it holds. */
export function logLinesParams(batches: readonly LogBatch[]): [string, number] {
  const rows = logRows(batches);
  return [JSON.stringify(rows), rows.length];
}

/**
 * A page of a try's rows (readChunkedLog): its batches, and the lines of task_logs (a row a line, as the release
 * before 0019 stored them and its replicas still write during a rolling upgrade) as one-line rows. Each side
 * stops at the page's size before the two are merged.
 */
const READ_PAGE = `SELECT first_seq, lines FROM (
  (SELECT first_seq, lines FROM task_log_chunks
    WHERE ti_id = $1 AND try_number = $2 AND last_seq > $3 AND first_seq > $4 ORDER BY first_seq LIMIT $5)
  UNION ALL
  (SELECT seq, json_build_array(json_build_array(round(date_part('epoch', ts) * 1000)::bigint, stream, line))::text
     FROM task_logs WHERE ti_id = $1 AND try_number = $2 AND seq > $3 AND seq > $4 ORDER BY seq LIMIT $5)
) page ORDER BY first_seq LIMIT $5`;

/** Lines with seq > afterSeq (default: all, including seq 0), in seq order, at most `limit`. */
export async function readLogs(
  db: Db,
  tiId: number,
  tryNumber: number,
  afterSeq = -1,
  limit = DEFAULT_LOG_READ_LIMIT,
): Promise<LogLineRecord[]> {
  return readChunkedLog((afterFirst, n) => query<LogChunkRow>(db, READ_PAGE, [tiId, tryNumber, afterSeq, afterFirst, n]), afterSeq, limit);
}

/** The seq of the try's last stored line; -1 when it has none. */
export async function lastLogSeq(db: Db, tiId: number, tryNumber: number): Promise<number> {
  const [row] = await query<{ last: number | null }>(
    db,
    "SELECT max(last_seq) AS last FROM task_log_chunks WHERE ti_id = $1 AND try_number = $2",
    [tiId, tryNumber],
  );
  return row?.last ?? -1;
}
