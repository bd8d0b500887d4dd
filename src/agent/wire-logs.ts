/**
 * AppendLogsRequest in protobuf's binary form, encoded by hand. The server's Connect router parses a JSON body
 * with a character-by-character duplicate-key scan on top of JSON.parse: for a chatty task's 500-line batches
 * that was a third of the server's CPU (profile of a bash task printing 100,000 lines). The binary form is
 * decoded natively by the same router. Encoded here rather than with @bufbuild/protobuf because the agent
 * starts once per task and loading that runtime costs ~20 ms of start-up (client.ts).
 *
 * message AppendLogsRequest { int64 first_seq = 1; repeated LogLine lines = 2; }
 * message LogLine { int64 timestamp_ms = 1; string stream = 2; string line = 3; }
 */

export interface WireLogLine {
  timestampMs: number;
  stream: string;
  line: string;
}

/** Tags: (field number << 3) | wire type (0 varint, 2 length-delimited). */
const FIRST_SEQ = (1 << 3) | 0;
const LINES = (2 << 3) | 2;
const TIMESTAMP_MS = (1 << 3) | 0;
const STREAM = (2 << 3) | 2;
const LINE = (3 << 3) | 2;

/** int64 varints: a whole number ≥ 0 below 2^53 (timestamps, seqs); anything else as its 64-bit two's complement. */
const asUint64 = (n: number): bigint | number => (n >= 0 && Number.isSafeInteger(n) ? n : BigInt.asUintN(64, BigInt(Math.trunc(n))));

function varintSize(n: bigint | number): number {
  let size = 1;
  if (typeof n === "bigint") {
    for (let v = n; v >= 0x80n; v >>= 7n) size++;
    return size;
  }
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) size++;
  return size;
}

class Writer {
  readonly bytes: Uint8Array;
  at = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }
  varint(n: bigint | number): void {
    if (typeof n === "bigint") {
      let v = n;
      for (; v >= 0x80n; v >>= 7n) this.bytes[this.at++] = Number(v & 0x7fn) | 0x80;
      this.bytes[this.at++] = Number(v);
      return;
    }
    let v = n;
    for (; v >= 0x80; v = Math.floor(v / 0x80)) this.bytes[this.at++] = (v % 0x80) | 0x80;
    this.bytes[this.at++] = v;
  }
  utf8(s: string, size: number): void {
    this.varint(size);
    this.at += utf8.encodeInto(s, this.bytes.subarray(this.at, this.at + size)).written;
  }
}

const utf8 = new TextEncoder();

/** The AppendLogsRequest of a batch of lines numbered from `firstSeq` (proto3: zero and empty fields left out). */
export function appendLogsRequestBytes(firstSeq: number, lines: readonly WireLogLine[]): Uint8Array {
  const parts = lines.map((l) => {
    const ts = asUint64(l.timestampMs);
    const stream = Buffer.byteLength(l.stream);
    const line = Buffer.byteLength(l.line);
    const size =
      (l.timestampMs !== 0 ? 1 + varintSize(ts) : 0) +
      (stream ? 1 + varintSize(stream) + stream : 0) +
      (line ? 1 + varintSize(line) + line : 0);
    return { l, ts, stream, line, size };
  });
  const seq = asUint64(firstSeq);
  const total = (firstSeq !== 0 ? 1 + varintSize(seq) : 0) + parts.reduce((n, p) => n + 1 + varintSize(p.size) + p.size, 0);
  const w = new Writer(total);
  if (firstSeq !== 0) w.varint(FIRST_SEQ), w.varint(seq);
  for (const p of parts) {
    w.varint(LINES);
    w.varint(p.size);
    if (p.l.timestampMs !== 0) w.varint(TIMESTAMP_MS), w.varint(p.ts);
    if (p.stream) w.varint(STREAM), w.utf8(p.l.stream, p.stream);
    if (p.line) w.varint(LINE), w.utf8(p.l.line, p.line);
  }
  return w.bytes;
}
