/**
 * Task logs are stored a batch to a row (task_log_chunks, both stores): the lines one write brings for one try
 * (an agent's batch of up to 500, an inline task's lines with its end) as one JSON array of [epoch ms, stream,
 * line], keyed by the try and the batch's first seq. A row a line cost a row, a key entry and (Postgres) a
 * foreign-key check per line: a bash task printing 100,000 lines ran 334 / 942 ms from start to end (Lite SQLite /
 * Lite Postgres, `scripts/bench logs`) and 243 / 360 a batch to a row; an inline task's end writes one row instead
 * of three (Postgres WAL per fan-out task 3.43 → 3.18 KB; tasks/s within the noise).
 *
 * Lines already stored are ignored as before: a batch resent from the same first seq adds only the lines past
 * the stored row's last (the stores' upserts), and a batch overlapping another's seqs reads back once per seq,
 * the row with the lower first seq winning (readChunkedLog).
 */
import { storableText, type LogLineRecord } from "../domain";
import type { LogBatch } from "./ports/task-log";

/** A stored row of a try's log: the lines numbered first_seq, first_seq+1, …, as chunkLines wrote them. */
export interface LogChunkRow {
  first_seq: number;
  lines: string;
}

type StoredLine = [epochMs: number, stream: string, line: string];

/** The lines of one batch as the row stores them (NUL and lone surrogates become U+FFFD: json-safety.ts). */
function chunkLines(lines: readonly Omit<LogLineRecord, "seq">[]): StoredLine[] {
  return lines.map((l) => [l.timestamp.getTime(), l.stream, storableText(l.line)]);
}

/**
 * The most lines a row holds (an agent's batch is at most 500): a longer batch is stored as rows of this many
 * from its first seq, so a row holding a line past any seq starts within this many seqs before it and a read
 * after a seq scans no further back (lookbackFrom).
 */
const MAX_ROW_LINES = 500;

/** A row to write: a try's lines numbered first_seq … last_seq, as the row stores them. */
export interface LogRow {
  ti_id: number;
  try_number: number;
  first_seq: number;
  last_seq: number;
  lines: StoredLine[];
}

/**
 * The rows to write, for both stores' inserts: each batch cut into rows of at most MAX_ROW_LINES from its first
 * seq (a longer resend of a batch cuts at the same seqs), one per try and first seq; a row named twice in one
 * write (a retried write of the same lines) keeps its longest, since one statement cannot insert and then update
 * the same row.
 */
export function logRows(batches: readonly LogBatch[]): LogRow[] {
  const byKey = new Map<string, LogBatch>();
  for (const batch of batches)
    for (let from = 0; from < batch.lines.length; from += MAX_ROW_LINES) {
      const b = { ...batch, first_seq: batch.first_seq + from, lines: batch.lines.slice(from, from + MAX_ROW_LINES) };
      const key = `${b.ti_id}:${b.try_number}:${b.first_seq}`;
      const seen = byKey.get(key);
      if (!seen || seen.lines.length < b.lines.length) byKey.set(key, b);
    }
  return [...byKey.values()].map((b) => ({
    ti_id: b.ti_id,
    try_number: b.try_number,
    first_seq: b.first_seq,
    last_seq: b.first_seq + b.lines.length - 1,
    lines: chunkLines(b.lines),
  }));
}

/** The first seq below which no row holds a line past `afterSeq` (every row is at most MAX_ROW_LINES long). */
const lookbackFrom = (afterSeq: number) => afterSeq - MAX_ROW_LINES;

/** The lines of one row with seq > afterSeq, in seq order. */
function linesOfRow(row: LogChunkRow, afterSeq: number): LogLineRecord[] {
  const lines = JSON.parse(row.lines) as StoredLine[];
  const out: LogLineRecord[] = [];
  for (const [i, [ms, stream, line]] of lines.entries()) {
    const seq = row.first_seq + i;
    if (seq > afterSeq) out.push({ seq, timestamp: new Date(ms), stream, line });
  }
  return out;
}

/** Below every first seq: where a read of a try's rows starts. */
const BEFORE_FIRST_SEQ = -1;
/** Rows a log read asks for first; each further page asks for twice as many, up to the lines wanted. */
const FIRST_PAGE_ROWS = 16;

/**
 * Reads a try's log through `page` (its rows holding a line past afterSeq with first_seq > afterFirst, in first_seq
 * order, at most n; the first page starts at lookbackFrom(afterSeq), so a read deep into a long log scans from near
 * afterSeq): seq > afterSeq, in seq order, one line per seq (the row with the lower first seq wins), at most
 * `limit`. A row holds one line or hundreds, so rows are read in growing pages and parsed one by one until the
 * lines below the next row's first seq, which no later row can add to, are `limit`.
 */
export async function readChunkedLog(
  page: (afterFirst: number, n: number) => LogChunkRow[] | Promise<LogChunkRow[]>,
  afterSeq: number,
  limit: number,
): Promise<LogLineRecord[]> {
  const bySeq = new Map<number, LogLineRecord>();
  let maxSeq = afterSeq;
  // Lines below `below` (the next row's first seq); counted one by one only when rows overlap past it (rare).
  const settled = (below: number) => (maxSeq < below ? bySeq.size : [...bySeq.keys()].filter((seq) => seq < below).length);
  let n = Math.max(1, Math.min(limit, FIRST_PAGE_ROWS));
  let afterFirst = Math.max(BEFORE_FIRST_SEQ, lookbackFrom(afterSeq));
  for (;;) {
    const rows = await page(afterFirst, n);
    for (const row of rows) {
      if (settled(row.first_seq) >= limit) return ordered(bySeq, limit);
      for (const l of linesOfRow(row, afterSeq)) {
        if (bySeq.has(l.seq)) continue;
        bySeq.set(l.seq, l);
        maxSeq = Math.max(maxSeq, l.seq);
      }
      afterFirst = row.first_seq;
    }
    if (rows.length < n) return ordered(bySeq, limit);
    n = Math.min(Math.max(1, limit), n * 2);
  }
}

const ordered = (bySeq: Map<number, LogLineRecord>, limit: number) => [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(0, limit);
