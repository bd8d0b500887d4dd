/**
 * Ships log lines to the control plane in numbered batches: every `flushIntervalMs` or as soon as `maxBatchLines`
 * lines (or `maxBatchBytes`) are waiting, one batch in flight at a time so batches arrive in order. Sequence
 * numbers start at 0 per try; the server ignores a seq it already has, so a retried batch is harmless. A try's
 * total is capped at `maxTotalBytes`; past it lines are dropped with one final note.
 */
import type { Logger } from "../observability";

export interface ShippedLine {
  timestampMs: number;
  stream: string;
  line: string;
}

export interface LogShipperOptions {
  flushIntervalMs?: number;
  maxBatchLines?: number;
  maxBatchBytes?: number;
  maxTotalBytes?: number;
  now?: () => number;
  logger?: Logger;
}

export const MAX_TRY_LOG_BYTES = 100 * 1024 * 1024;

export class LogShipper {
  private pending: ShippedLine[] = [];
  private pendingBytes = 0;
  private nextSeq = 0;
  private totalBytes = 0;
  private capped = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private chain: Promise<void> = Promise.resolve();
  private readonly o: Required<Omit<LogShipperOptions, "logger">> & { logger?: Logger };

  constructor(
    private readonly send: (firstSeq: number, lines: ShippedLine[]) => Promise<void>,
    opts: LogShipperOptions = {},
  ) {
    this.o = {
      flushIntervalMs: opts.flushIntervalMs ?? 200,
      maxBatchLines: opts.maxBatchLines ?? 500,
      // Well under the control plane's --rpc-max-body (4 MiB): counted in characters, a line can grow ~3x as JSON.
      maxBatchBytes: opts.maxBatchBytes ?? 1024 * 1024,
      maxTotalBytes: opts.maxTotalBytes ?? MAX_TRY_LOG_BYTES,
      now: opts.now ?? Date.now,
      logger: opts.logger,
    };
  }

  add(stream: string, line: string): void {
    if (this.capped) return;
    const size = Buffer.byteLength(line) + 1;
    if (this.totalBytes + size > this.o.maxTotalBytes) {
      this.capped = true;
      this.queue("agent", `log limit of ${this.o.maxTotalBytes} bytes reached for this try; further output is dropped`);
      void this.flush(); // never rejects: a batch the control plane refuses is logged and dropped
      return;
    }
    this.totalBytes += size;
    this.queue(stream, line);
    if (this.pending.length >= this.o.maxBatchLines || this.pendingBytes >= this.o.maxBatchBytes) void this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.o.flushIntervalMs);
  }

  /** Sends everything queued so far; resolves once it (and every earlier batch) is sent or given up. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.pending.length) {
      const batch = this.pending.splice(0, this.o.maxBatchLines);
      const firstSeq = this.nextSeq;
      this.nextSeq += batch.length;
      this.chain = this.chain.then(() =>
        this.send(firstSeq, batch).catch((e) => {
          // The client already retried; losing a batch must not fail the task, so note it and go on.
          this.o.logger?.error("dropping a log batch the control plane did not accept", {
            first_seq: firstSeq,
            lines: batch.length,
            error: e,
          });
        }),
      );
    }
    this.pendingBytes = 0;
    return this.chain;
  }

  /** Flushes and stops the timer; call before ReportState so the logs are complete when the state lands. */
  close(): Promise<void> {
    return this.flush();
  }

  private queue(stream: string, line: string): void {
    this.pending.push({ timestampMs: this.o.now(), stream, line });
    this.pendingBytes += line.length;
  }
}
