/**
 * The log of one inline try: the lines it shows (the request, each attempt, the stored body, the failure)
 * and how they are written — through the store, in order, seq from 0 like the agent's, without making the
 * request wait for a store round trip.
 */
import type { LogLineRecord } from "../domain";
import type { AttemptReport, HttpCall } from "./inline-http";

/** What the task log needs from the store. */
export interface TaskLogPort {
  appendLogs(tiId: number, tryNumber: number, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): Promise<void>;
}

export function requestLine(call: Pick<HttpCall, "method" | "safeUrl" | "timeoutSeconds" | "retries">): string {
  return `inline http: ${call.method} ${call.safeUrl} (timeout ${call.timeoutSeconds}s per attempt, up to ${call.retries} retr${call.retries === 1 ? "y" : "ies"})`;
}

export function attemptLine(method: string, safeUrl: string, total: number, a: AttemptReport): string {
  const outcome = a.status !== null ? `HTTP ${a.status}` : a.error;
  const next = a.retryInMs !== null ? `; retrying in ${a.retryInMs} ms` : "";
  return `attempt ${a.attempt}/${total}: ${method} ${safeUrl} -> ${outcome} in ${a.durationMs} ms${next}`;
}

/** Written with the outcome, before the store has taken the XCom: a refusal follows as the failure line. */
export function storingLine(bytes: number, kind: "json" | "text"): string {
  return `storing the response body (${bytes} bytes, ${kind}) as XCom return_value`;
}

export function failedLine(reason: string): string {
  return `task failed: ${reason}`;
}

/**
 * Lines are held briefly and written in batches, in order: a request that answers within `delayMs` costs one
 * store write for all its lines (at flush, before the outcome), a slow one still shows its lines while it
 * runs. `write` never rejects. Lines the store refused are counted in `lost` (with the first error) rather
 * than failing the try: the request has already had its effect, and the runner reports the loss once the try
 * is over.
 */
export class TaskLog {
  private seq = 0;
  private sent = 0;
  private held: Omit<LogLineRecord, "seq">[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private chain: Promise<void> = Promise.resolve();
  /** Lines the store refused, and the first refusal. */
  lost = 0;
  firstError: unknown = null;

  constructor(
    private readonly port: TaskLogPort,
    private readonly ti: { id: number; try_number: number },
    private readonly now: () => Date,
    private readonly delayMs = 250,
  ) {}

  get written(): number {
    return this.seq;
  }

  write(line: string, stream: "stdout" | "stderr" = "stdout"): void {
    this.seq++;
    this.held.push({ timestamp: this.now(), stream, line });
    this.timer ??= setTimeout(() => void this.send(), this.delayMs);
  }

  /** Writes what is held; resolves once every line so far is stored (or counted lost). */
  flush(): Promise<void> {
    return this.send();
  }

  /**
   * Hands the held lines to the caller, which writes them with the try's outcome (one store write for both),
   * once the lines sent before them are stored: every line is in the store before the final state.
   */
  async takeHeld(): Promise<{ firstSeq: number; lines: Omit<LogLineRecord, "seq">[] }> {
    await this.chain;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const lines = this.held;
    const firstSeq = this.sent;
    this.held = [];
    this.sent += lines.length;
    return { firstSeq, lines };
  }

  /** Lines taken by takeHeld that the caller could not store. */
  lostTaken(count: number, error: unknown): void {
    this.lost += count;
    this.firstError ??= error;
  }

  private send(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.held.length) return this.chain;
    const lines = this.held;
    const firstSeq = this.sent;
    this.held = [];
    this.sent += lines.length;
    this.chain = this.chain.then(() =>
      this.port.appendLogs(this.ti.id, this.ti.try_number, firstSeq, lines).catch((e: unknown) => {
        this.lost += lines.length;
        this.firstError ??= e;
      }),
    );
    return this.chain;
  }
}
