/**
 * One `leoflow agent` process started by the subprocess executor, and the tries it runs. A cold agent
 * (`agent --server URL`, token in its environment) runs one try and exits: the try ends when it exits. A warm
 * agent (`agent --warm --server URL`, no token) says `ready`, takes a try on stdin, and ends it with a `done`
 * control line, or by exiting. Either way the try ends with the user process group it announced, so the
 * executor can stop what is left of it before reporting.
 */
import { LineSplitter, formatAssignment, formatReportAnswer, parseControlLine, type ReportAnswer } from "../agent/launch";

export interface TryEnd {
  exitCode: number | null;
  signal: string | null;
  /** The user process group the agent announced for this try, if it did. */
  pgid: number | null;
  /**
   * The control plane answered the try's final report: a warm agent's `done` with 0 or 1, which its loop says
   * only after ReportState returned (agent/runner.ts; 2 is a try whose protocol failed). A process's exit
   * never says so: an agent that crashes exits 1 too.
   */
  reported?: boolean;
}

export interface AgentHooks {
  onReady?(agent: AgentProcess): void;
  onExit?(agent: AgentProcess): void;
  /** A warm agent's report on its control line (`report`, numbered `id`): answer it with answerReport. */
  onReport?(agent: AgentProcess, body: Record<string, unknown>, id: number): void;
}

export class AgentProcess {
  readonly proc: Bun.Subprocess<"pipe" | "ignore", "pipe", "inherit">;
  /** Said `ready` (warm agents). */
  ready = false;
  /** Tries this agent has ended with `done`. */
  triesDone = 0;
  /** Sending its try's final state (warm): free in a moment. */
  reporting = false;
  /** Signalled by the executor: it exits after its try and takes no other. */
  doomed = false;
  private exited = false;
  private settle!: () => void;
  /** Resolves when it says `ready` or exits, whichever is first. */
  readonly settled = new Promise<void>((resolve) => {
    this.settle = resolve;
  });
  private current: { pgid: number | null; end: (e: TryEnd) => void } | null = null;

  constructor(
    argv: string[],
    env: Record<string, string>,
    readonly warm: boolean,
    private readonly hooks: AgentHooks = {},
  ) {
    // Throws when the program cannot be started (ENOENT…): the launch fails, the dispatcher retries it.
    this.proc = Bun.spawn(argv, { env, stdin: warm ? "pipe" : "ignore", stdout: "pipe", stderr: "inherit", detached: true });
    void this.watch();
  }

  get alive(): boolean {
    return !this.exited && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  get busy(): boolean {
    return this.current !== null;
  }

  /**
   * Starts a try: a warm agent gets the try's own values on stdin (with Register's answer when the server
   * registered the try for it); a cold one has them already.
   */
  run(own: Record<string, string>, registered?: object): Promise<TryEnd> {
    if (this.current) throw new Error("an agent runs one try at a time");
    if (!this.alive) return Promise.resolve(this.exitEnd(null));
    const ended = new Promise<TryEnd>((end) => {
      this.current = { pgid: null, end };
    });
    if (this.warm)
      try {
        this.proc.stdin?.write(formatAssignment(own, registered));
        void this.proc.stdin?.flush();
      } catch {
        // The agent is gone: its exit ends this try, as a cold agent that died at start would.
      }
    return ended;
  }

  /** The answer to the report it sent on its control line (a warm agent reads it on stdin). */
  answerReport(a: ReportAnswer): void {
    try {
      this.proc.stdin?.write(formatReportAnswer(a));
      void this.proc.stdin?.flush();
    } catch {
      // The agent is gone: its exit ends the try.
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (signal !== "SIGCONT") this.doomed = true;
    this.proc.kill(signal);
  }

  /** An idle warm agent: EOF on stdin ends it. */
  retire(): void {
    this.doomed = true;
    try {
      void this.proc.stdin?.end();
    } catch {
      // already gone
    }
  }

  /** Its try's final state is on its way (its control line said so, or the server took its report): free in a moment. */
  markReporting(): void {
    this.reporting = this.current !== null;
  }

  private onLine(line: string): void {
    const msg = parseControlLine(line);
    if (!msg) return;
    if ("user_pgid" in msg) {
      if (this.current) this.current.pgid = msg.user_pgid;
    } else if ("ready" in msg) {
      this.ready = true;
      this.settle();
      this.hooks.onReady?.(this);
    } else if ("reporting" in msg) {
      this.markReporting();
    } else if ("report" in msg) {
      this.markReporting();
      this.hooks.onReport?.(this, msg.report, msg.report_id);
    } else if (this.current) {
      const { end, pgid } = this.current;
      this.current = null;
      this.reporting = false;
      this.triesDone++;
      end({ exitCode: msg.done, signal: null, pgid, reported: msg.done === 0 || msg.done === 1 });
    }
  }

  private exitEnd(pgid: number | null): TryEnd {
    const signal = this.proc.signalCode;
    return { exitCode: signal ? null : this.proc.exitCode, signal: signal ? String(signal) : null, pgid };
  }

  /** Reads control lines until the agent exits; then ends its try, if it was running one. */
  private async watch(): Promise<void> {
    const splitter = new LineSplitter();
    const reader = this.proc.stdout.getReader();
    const reading = (async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read()) for (const l of splitter.push(r.value)) this.onLine(l);
      for (const l of splitter.end()) this.onLine(l);
    })().catch(() => {}); // a broken pipe only costs us the group id; the exit still ends the try below
    await this.proc.exited;
    this.exited = true;
    this.settle();
    // Not EOF: a process the agent started may hold its stdout open. What the agent wrote is in the pipe
    // already; a short wait reads it.
    await Promise.race([reading, Bun.sleep(200)]);
    void reader.cancel().catch(() => {});
    if (this.current) {
      const { end, pgid } = this.current;
      this.current = null;
      end(this.exitEnd(pgid));
    }
    this.hooks.onExit?.(this);
  }
}
