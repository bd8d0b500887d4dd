/**
 * The control plane's own cap on one try's log, at the agent door: the agent stops shipping at 100 MiB
 * (agent/log-shipper.ts), but a task holds its try's token and may call AppendLogs itself, and a log is stored
 * in the database every replica and team shares. Past `--task-log-max-bytes` (default above the agent's own
 * cap, so it binds only on lines the agent did not cut) one note line is kept in place of the rest and every
 * later line of the try is dropped; the call still succeeds, so the task runs on. Counted in this process's
 * memory for the tries it saw (a restart or another Pro replica counts afresh: at most the cap again each).
 */
import type { LogLineRecord } from "../domain";

export const DEFAULT_TASK_LOG_MAX_BYTES = 128 * 1024 * 1024;
/** Tries counted at once; past it the oldest are forgotten (each counts afresh if it writes again). */
const MAX_COUNTED_TRIES = 10_000;

type Line = Omit<LogLineRecord, "seq">;

export class TryLogBudget {
  private readonly used = new Map<string, { bytes: number; capped: boolean }>();

  constructor(readonly maxBytes: number = DEFAULT_TASK_LOG_MAX_BYTES) {}

  /**
   * What of an append numbered from `firstSeq` may be stored: the lines within the try's budget, then (once)
   * a note where the first line past it would have gone; none at all once the try has been capped.
   */
  admit(tiId: number, tryNumber: number, firstSeq: number, lines: readonly Line[], now: Date): Line[] {
    const key = `${tiId}:${tryNumber}`;
    let u = this.used.get(key);
    if (!u) {
      if (this.used.size >= MAX_COUNTED_TRIES) this.used.delete(this.used.keys().next().value!);
      u = { bytes: 0, capped: false };
      this.used.set(key, u);
    }
    if (u.capped) return [];
    for (const [i, l] of lines.entries()) {
      const size = Buffer.byteLength(l.line) + l.stream.length;
      if (u.bytes + size > this.maxBytes) {
        u.capped = true;
        const note = `this try's log reached the control plane's limit of ${this.maxBytes} bytes (--task-log-max-bytes) at line ${firstSeq + i}; the rest of its lines are dropped`;
        return [...lines.slice(0, i), { timestamp: now, stream: "leoflow", line: note }];
      }
      u.bytes += size;
    }
    return lines as Line[];
  }

  /** The try ended: its count is not needed again. */
  forget(tiId: number, tryNumber: number): void {
    this.used.delete(`${tiId}:${tryNumber}`);
  }
}
