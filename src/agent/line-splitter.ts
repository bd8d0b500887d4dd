/**
 * Turns a byte stream into log lines: split on \n (a trailing \r is dropped), invalid UTF-8 decoded with
 * replacement characters, one line capped at `maxLineBytes` with a "[truncated N bytes]" marker. A line that
 * never ends is never buffered past the cap, so binary output cannot exhaust memory.
 *
 * @example const s = new LineSplitter(); s.push(bytes("a\nb")); // ["a"]; s.end() // ["b"]
 */
export const MAX_LINE_BYTES = 64 * 1024;

export class LineSplitter {
  private parts: Uint8Array[] = [];
  private kept = 0;
  private dropped = 0;
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });

  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  /** Complete lines found in this chunk (the rest waits for the next chunk or `end`). */
  push(chunk: Uint8Array): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      this.take(chunk.subarray(start, nl < 0 ? chunk.length : nl));
      if (nl < 0) break;
      lines.push(this.flushLine());
      start = nl + 1;
    }
    return lines;
  }

  /** The unterminated last line, if any. */
  end(): string[] {
    return this.kept || this.dropped ? [this.flushLine()] : [];
  }

  private take(bytes: Uint8Array): void {
    if (!bytes.length) return;
    const room = this.maxLineBytes - this.kept;
    const keep = Math.min(room, bytes.length);
    // Copy: the stream may reuse its chunk buffer.
    if (keep > 0) this.parts.push(bytes.slice(0, keep));
    this.kept += keep;
    this.dropped += bytes.length - keep;
  }

  private flushLine(): string {
    const buf = new Uint8Array(this.kept);
    let o = 0;
    for (const p of this.parts) {
      buf.set(p, o);
      o += p.length;
    }
    let text = this.decoder.decode(buf);
    if (this.dropped) text += ` [truncated ${this.dropped} bytes]`;
    else if (text.endsWith("\r")) text = text.slice(0, -1);
    this.parts = [];
    this.kept = 0;
    this.dropped = 0;
    return text;
  }
}
