/** Task logs a batch to a row (log-chunks.ts), keyed (ti, try, first seq) so a resent batch adds nothing twice. */
import type { Database } from "bun:sqlite";
import type { LogLineRecord } from "../../domain";
import { logRows, readChunkedLog, type LogChunkRow } from "../log-chunks";
import type { LogBatch } from "../ports/task-log";
import { atomically } from "./atomic";
import { insertRows } from "./insert-rows";

export const DEFAULT_LOG_READ_LIMIT = 10_000;

const INSERT_CHUNKS = "INSERT INTO task_log_chunks (ti_id, try_number, first_seq, last_seq, lines)";
/**
 * What a row already stored for the same first seq keeps: its lines, plus those of the new batch past its last
 * seq (a batch resent with more lines); the same or fewer lines change nothing. json_each walks an array in order.
 */
const CHUNK_CONFLICT = `ON CONFLICT (ti_id, try_number, first_seq) DO UPDATE SET
  lines = (SELECT json_group_array(json(x.value)) FROM (
    SELECT 0 AS part, key, value FROM json_each(task_log_chunks.lines)
    UNION ALL
    SELECT 1, key, value FROM json_each(excluded.lines) WHERE key > task_log_chunks.last_seq - task_log_chunks.first_seq
    ORDER BY part, key) AS x),
  last_seq = excluded.last_seq
WHERE excluded.last_seq > task_log_chunks.last_seq`;

/** Stores lines numbered firstSeq, firstSeq+1, … as one row; `live`: the caller read its task instance in its transaction. */
export function appendLogs(
  db: Database,
  tiId: number,
  tryNumber: number,
  firstSeq: number,
  lines: Omit<LogLineRecord, "seq">[],
  live?: "live",
): void {
  appendLogBatches(db, [{ ti_id: tiId, try_number: tryNumber, first_seq: firstSeq, lines }], live ? new Set([tiId]) : undefined);
}

/**
 * Many tries' batches in one transaction, a row each, in multi-row statements (the inline runner's batches). The
 * lines of a task instance that is gone (its run deleted while it ran) are left out: the foreign key would refuse
 * them, and with them every other try's lines and end written in the same transaction. `known`: task instances
 * the caller's open transaction found (an end that applied), not read again.
 */
export function appendLogBatches(db: Database, batches: readonly LogBatch[], known?: ReadonlySet<number>): void {
  const rows = logRows(batches).map((r) => [r.ti_id, r.try_number, r.first_seq, r.last_seq, JSON.stringify(r.lines)]);
  if (!rows.length) return;
  atomically(db, () => {
    const unknown = [...new Set(rows.map((r) => r[0] as number).filter((id) => !known?.has(id)))];
    const live = unknown.length ? existingTaskInstances(db, unknown) : null;
    const kept = live ? rows.filter((r) => known?.has(r[0] as number) || live.has(r[0] as number)) : rows;
    if (kept.length) insertRows(db, INSERT_CHUNKS, 5, kept, CHUNK_CONFLICT);
  });
}

/** Which of `ids` name a task instance, read in the caller's transaction. */
function existingTaskInstances(db: Database, ids: readonly number[]): Set<number> {
  const found = db.query("SELECT id FROM task_instances WHERE id IN (SELECT value FROM json_each(?))").values(JSON.stringify(ids)) as [
    number,
  ][];
  return new Set(found.map(([id]) => id));
}

/** Lines with seq > afterSeq (default: all, including seq 0), in seq order, at most `limit`. */
export function readLogs(
  db: Database,
  tiId: number,
  tryNumber: number,
  afterSeq = -1,
  limit = DEFAULT_LOG_READ_LIMIT,
): Promise<LogLineRecord[]> {
  const page = db.query<LogChunkRow, [number, number, number, number, number]>(
    `SELECT first_seq, lines FROM task_log_chunks
     WHERE ti_id = ? AND try_number = ? AND last_seq > ? AND first_seq > ? ORDER BY first_seq LIMIT ?`,
  );
  return readChunkedLog((afterFirst, n) => page.all(tiId, tryNumber, afterSeq, afterFirst, n), afterSeq, limit);
}

/** The seq of the try's last stored line; -1 when it has none. */
export function lastLogSeq(db: Database, tiId: number, tryNumber: number): number {
  const row = db
    .query<{ last: number | null }, [number, number]>(
      "SELECT max(last_seq) AS last FROM task_log_chunks WHERE ti_id = ? AND try_number = ?",
    )
    .get(tiId, tryNumber);
  return row?.last ?? -1;
}
