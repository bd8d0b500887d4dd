/**
 * Ships log lines to the control plane in numbered batches: every `flushIntervalMs` or as soon as `maxBatchLines`
 * lines (or `maxBatchBytes`) are waiting, one batch in flight at a time so batches arrive in order. Sequence
 * numbers start at 0 per try; the server ignores a seq it already has, so a retried batch is harmless. A try's
 * total is capped at `maxTotalBytes`; past it lines are dropped with one final note.
 *
 * It is also the one place secrets are masked: every line of a batch (the task's and the agent's own) goes
 * through `masker` when the batch is cut, after taking in whatever the task appended to its mask file, so a
 * secret the task read before printing it never reaches the control plane.
 */
import type { Logger } from "../observability";
import { SecretMasker } from "./secret-masker";

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
  /** The seq of the first line (a sensor in mode reschedule logs each check after the previous ones). */
  firstSeq?: number;
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
  private maskSource: { readNew(): string[] } | null = null;
  /** The secrets masked in every line shipped from now on. */
  readonly masker = new SecretMasker();
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
      firstSeq: opts.firstSeq ?? 0,
    };
    this.nextSeq = this.o.firstSeq;
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

  /** Takes in the secrets `source` reports (the task's mask file) before every batch. */
  followSecrets(source: { readNew(): string[] }): void {
    this.maskSource = source;
  }

  /** Sends everything queued so far; resolves once it (and every earlier batch) is sent or given up. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length) this.takeInSecrets();
    while (this.pending.length) {
      const batch = this.pending.splice(0, this.o.maxBatchLines);
      const firstSeq = this.cut(batch);
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

  /**
   * The try's last batch, for ReportState to carry (one write for both instead of an AppendLogs first): the
   * lines still held, masked and numbered, once every earlier batch is sent. Everything but one batch goes out
   * the usual way first. Nothing is sent after it.
   */
  async takeLast(): Promise<{ firstSeq: number; lines: ShippedLine[] }> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length) this.takeInSecrets();
    const last = this.pending.splice(Math.max(0, this.pending.length - this.o.maxBatchLines));
    if (this.pending.length) void this.flush();
    const firstSeq = this.cut(last);
    this.pendingBytes = 0;
    await this.chain;
    return { firstSeq, lines: last };
  }

  /** Masks a batch taken from the pending lines and numbers it next: its first seq. */
  private cut(batch: ShippedLine[]): number {
    if (this.masker.size) for (const l of batch) l.line = this.masker.mask(l.line);
    const firstSeq = this.nextSeq;
    this.nextSeq += batch.length;
    return firstSeq;
  }

  /** Reads the mask source now; the runner calls it once the task is over, before its temp dir (and mask file) goes. */
  takeInSecrets(): void {
    try {
      for (const s of this.maskSource?.readNew() ?? []) this.masker.add(s);
    } catch (e) {
      this.o.logger?.warn("could not read the task's mask file; secrets it read later may show in its log", { error: e });
    }
  }

  private queue(stream: string, line: string): void {
    this.pending.push({ timestampMs: this.o.now(), stream, line });
    this.pendingBytes += line.length;
  }
}
