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

export function storedLine(bytes: number, kind: "json" | "text"): string {
  return `stored the response body (${bytes} bytes, ${kind}) as XCom return_value`;
}

export function failedLine(reason: string): string {
  return `task failed: ${reason}`;
}

/**
 * Lines are chained so they land in order; `write` never rejects. A line the store refused is counted in
 * `lost` (with the first error) rather than failing the try: the request has already had its effect, and
 * the runner reports the loss once the try is over.
 */
export class TaskLog {
  private seq = 0;
  private chain: Promise<void> = Promise.resolve();
  /** Lines the store refused, and the first refusal. */
  lost = 0;
  firstError: unknown = null;

  constructor(
    private readonly port: TaskLogPort,
    private readonly ti: { id: number; try_number: number },
    private readonly now: () => Date,
  ) {}

  get written(): number {
    return this.seq;
  }

  write(line: string, stream: "stdout" | "stderr" = "stdout"): Promise<void> {
    const seq = this.seq++;
    const entry = { timestamp: this.now(), stream, line };
    this.chain = this.chain.then(() =>
      this.port.appendLogs(this.ti.id, this.ti.try_number, seq, [entry]).catch((e: unknown) => {
        this.lost++;
        this.firstError ??= e;
      }),
    );
    return this.chain;
  }

  flush(): Promise<void> {
    return this.chain;
  }
}
