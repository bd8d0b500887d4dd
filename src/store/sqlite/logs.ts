/** Task logs, keyed (ti, try, seq) so a resent batch is ignored rather than duplicated. */
import type { Database } from "bun:sqlite";
import { storableText, type LogLineRecord } from "../../domain";
import type { LogBatch } from "../ports/task-log";
import { insertRows } from "./insert-rows";

export const DEFAULT_LOG_READ_LIMIT = 10_000;

export function appendLogs(db: Database, tiId: number, tryNumber: number, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): void {
  if (lines.length === 0) return;
  const insert = db.query("INSERT OR IGNORE INTO task_logs (ti_id, try_number, seq, ts, stream, line) VALUES (?, ?, ?, ?, ?, ?)");
  db.transaction(() => {
    lines.forEach((l, i) => {
      insert.run(tiId, tryNumber, firstSeq + i, l.timestamp.getTime(), l.stream, storableText(l.line));
    });
  }).immediate();
}

/** Many tries' lines in one transaction: one commit for all, in multi-row statements (the inline runner's batches). */
export function appendLogBatches(db: Database, batches: readonly LogBatch[]): void {
  const rows = batches.flatMap((b) =>
    b.lines.map((l, i) => [b.ti_id, b.try_number, b.first_seq + i, l.timestamp.getTime(), l.stream, storableText(l.line)]),
  );
  if (!rows.length) return;
  db.transaction(
    () => void insertRows(db, "INSERT OR IGNORE INTO task_logs (ti_id, try_number, seq, ts, stream, line)", 6, rows),
  ).immediate();
}

/** Lines with seq > afterSeq (default: all, including seq 0), in seq order, at most `limit`. */
export function readLogs(db: Database, tiId: number, tryNumber: number, afterSeq = -1, limit = DEFAULT_LOG_READ_LIMIT): LogLineRecord[] {
  const rows = db
    .query("SELECT seq, ts, stream, line FROM task_logs WHERE ti_id = ? AND try_number = ? AND seq > ? ORDER BY seq LIMIT ?")
    .all(tiId, tryNumber, afterSeq, limit) as { seq: number; ts: number; stream: string; line: string }[];
  return rows.map((r) => ({ seq: r.seq, timestamp: new Date(r.ts), stream: r.stream, line: r.line }));
}
