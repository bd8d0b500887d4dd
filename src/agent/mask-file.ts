/**
 * The mask file: how a task's own process tells its agent which secrets it read. `leoflow task var get`,
 * `leoflow task conn get` and a ts task's ctx.var/ctx.conn append each secret (one JSON string a line) to
 * $LEOFLOW_MASK_FILE *before* printing or returning it; the agent's log shipper reads what is new before every
 * batch it sends, so a line printed after the read is already masked. A task can only add masks to its own
 * log, so trusting the file costs nothing.
 */
import { appendFileSync, closeSync, fstatSync, openSync, readSync } from "node:fs";

export const MASK_FILE_ENV = "LEOFLOW_MASK_FILE";

/** Appends secrets for the agent to mask; a no-op outside a task (no $LEOFLOW_MASK_FILE). Synchronous on purpose. */
export function recordSecrets(secrets: readonly string[], env: Record<string, string | undefined> = process.env): void {
  const path = env[MASK_FILE_ENV];
  if (!path || !secrets.length) return;
  appendFileSync(path, secrets.map((s) => `${JSON.stringify(s)}\n`).join(""), { mode: 0o600 });
}

/** Reads the secrets appended since the last call; a missing file is simply nothing yet. */
export class MaskFileReader {
  private offset = 0;

  constructor(readonly path: string) {}

  readNew(): string[] {
    let fd: number;
    try {
      fd = openSync(this.path, "r");
    } catch {
      return [];
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return [];
      const buf = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      // Up to the last complete line: a write caught half-way is read whole next time.
      const end = buf.subarray(0, n).lastIndexOf(0x0a) + 1;
      this.offset += end;
      return buf
        .toString("utf8", 0, end)
        .split("\n")
        .filter(Boolean)
        .flatMap((l) => {
          try {
            const v = JSON.parse(l);
            return typeof v === "string" ? [v] : [];
          } catch {
            return [];
          }
        });
    } finally {
      closeSync(fd);
    }
  }
}
