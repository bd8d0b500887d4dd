/**
 * `leoflow agent --warm`: an agent the subprocess executor starts ahead of time, so a try does not wait for a
 * Bun start. It announces `ready` on its control line, then takes tries from stdin one at a time (assignment.ts)
 * and runs each exactly as a cold agent does (runner.ts): its own user process in its own process group, its
 * environment built for that try from this agent's allowlisted one plus the try's own values (process.env is
 * never changed), its own cwd and return-value file; the user process gets no descriptor but its stdio pipes.
 * After each try it reports `done` with the exit code a cold agent would have had.
 *
 * Signals keep a cold agent's meaning: while a user process runs, SIGTERM/SIGINT stop it (runner.ts) and this
 * agent exits once the try has reported; at any other moment the agent dies of the signal, as a cold agent
 * without a handler would, and its executor fails the try it was given. stdin at EOF (the server is gone or
 * retired this agent) ends it once the current try is over.
 */
import { rmSync, writeSync } from "node:fs";
import { createLogger, type Logger } from "../observability/logger";
import { AGENT_SETTINGS_ENV } from "../domain/task-env";
import { parseAssignment, parseReportAnswer, type ReportAnswer } from "./assignment";
import { formatControlLine, type ControlMessage } from "./control-line";
import { LineSplitter, MAX_LINE_BYTES } from "./line-splitter";
import { runAgent, type RunAgentOptions } from "./runner";
import {
  AgentRpcError,
  dial,
  isRetryable,
  registerAnswer,
  reportAnswer,
  reportStateBody,
  type AgentClient,
  type ReportStateResponse,
  type RpcCode,
} from "./client";
import { makeTryDir, type TryDir } from "./try-dir";

export interface RunWarmAgentOptions {
  logger?: Logger;
  /** Where assignments arrive; default stdin. */
  input?: ReadableStream<Uint8Array>;
  /** This agent's own environment (allowlisted by its executor); default process.env. */
  env?: Record<string, string | undefined>;
  killGraceMs?: number;
  /** Tests run the tries in-process; default runAgent. */
  run?: (opts: RunAgentOptions) => Promise<number>;
  /** Where control lines go (when the environment asks for them); default this process's stdout. Tests read them. */
  writeControl?: (line: string) => void;
  /** How a try's RPC client is made; default dial. Tests pass a recording one. */
  dial?: typeof dial;
}

const SIGNALS = ["SIGTERM", "SIGINT"] as const;
/** How long a report on the pipe waits for its answer before it goes over HTTP (the HTTP client's own deadline). */
const REPORT_ANSWER_WAIT_MS = 30_000;

export async function runWarmAgent(opts: RunWarmAgentOptions = {}): Promise<number> {
  const log = opts.logger ?? createLogger("agent");
  const env = opts.env ?? process.env;
  const run = opts.run ?? runAgent;
  const writeControl = opts.writeControl ?? ((line: string) => writeSync(1, line));
  const connect = opts.dial ?? dial;
  /** Control lines go to the executor's pipe (its setting), else nowhere; reports then go over HTTP. */
  const piped = env[AGENT_SETTINGS_ENV.control] === "stdout";
  /** `line`: the message already formatted (a report, measured against the line limit first). */
  const control = (msg: ControlMessage, line?: string) => {
    if (!piped) return;
    try {
      writeControl(line ?? formatControlLine(msg));
    } catch {
      // EPIPE: the server that started us is gone; stdin's EOF ends this agent after the current try.
    }
  };
  // The next try's temp folder, made while this agent waits (try-dir.ts); the try that takes it removes it.
  let nextDir: Promise<TryDir> | null = null;
  /** That folder once made, while no try has taken it. */
  let idleDir = "";
  const prepare = () => {
    const made = makeTryDir();
    nextDir = made;
    made.then((d) => void (nextDir === made && (idleDir = d.path))).catch(() => {}); // not made: its try says why
  };
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals) => {
    signalled = true;
    // runner.ts listens while a user process runs: it stops the task, and we exit after the report.
    if (process.listenerCount(sig) > 1) return;
    for (const s of SIGNALS) process.off(s, onSignal);
    if (idleDir) rmSync(idleDir, { recursive: true, force: true }); // the next try's folder: nobody will use it
    process.kill(process.pid, sig);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  prepare();
  const inbox = new Inbox(opts.input ?? Bun.stdin.stream());
  /** Reports sent on the pipe: each answer names the one it answers. */
  let reports = 0;
  /**
   * The try's report on the control pipe, answered on stdin: no HTTP exchange on a chain's path. Over HTTP (with
   * its retries) when there is no pipe, the report does not fit a line, no answer comes, or the answer is one a
   * retry may change; a report is idempotent, so sending it again is safe.
   */
  const reportOnPipe = async (req: Parameters<AgentClient["reportState"]>[0], client: AgentClient): Promise<ReportStateResponse> => {
    const body = reportStateBody(req);
    const id = reports + 1;
    const msg = { report: body, report_id: id };
    const line = piped ? formatControlLine(msg) : "";
    if (piped && Buffer.byteLength(line) < MAX_LINE_BYTES) {
      reports = id;
      const answered = inbox.answer(id, REPORT_ANSWER_WAIT_MS);
      control(msg, line);
      const a = await answered;
      if (a?.ok) return reportAnswer(a.answer);
      if (a) {
        const refused = new AgentRpcError(a.code as RpcCode, a.message, "ReportState");
        if (!isRetryable(refused)) throw refused;
      }
    }
    // The report is what dispatches the next task of a chain: say we are about to be free.
    control({ reporting: true });
    return client.reportState(req);
  };
  try {
    control({ ready: true });
    for (let line = await inbox.next(); line !== null; line = await inbox.next()) {
      const a = parseAssignment(line);
      if (!a.ok) {
        log.error("warm agent: unreadable try assignment from the executor; exiting so it starts a fresh agent", {
          error: a.error,
        });
        return 2;
      }
      const own = a.own;
      // Register's answer, when the server registered this try for us: our first call is then the report.
      const registered = a.registered ? registerAnswer(a.registered) : undefined;
      const server = own.LEOFLOW_SERVER ?? "";
      const token = own.LEOFLOW_AGENT_TOKEN ?? "";
      const client = connect(server, token, { logger: log });
      const tryDir = nextDir ?? makeTryDir();
      nextDir = null;
      idleDir = "";
      const code = await run({
        server,
        token,
        client: { ...client, reportState: (req) => reportOnPipe(req, client) },
        logger: log,
        killGraceMs: opts.killGraceMs,
        env: { ...env, ...own },
        tryDir,
        ...(registered ? { registered } : {}),
      });
      await tryDir.then((d) => d.cleanup()).catch(() => {});
      control({ done: code });
      if (signalled) return code;
      prepare();
    }
    return 0;
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
    await (nextDir as Promise<TryDir> | null)?.then((d) => d.cleanup()).catch(() => {});
  }
}

/**
 * This agent's stdin, read as it comes: the executor's try assignments, in order, and the answers to the reports
 * the agent sent on its control line (one at a time: a try's report is its last call).
 */
class Inbox {
  private readonly lines: string[] = [];
  private wake: (() => void) | null = null;
  private closed = false;
  private answered: { id: number; resolve: (a: ReportAnswer | null) => void } | null = null;

  constructor(input: ReadableStream<Uint8Array>) {
    void this.pump(input);
  }

  /** The next assignment line; null once stdin is closed (the executor is gone, or retired this agent). */
  async next(): Promise<string | null> {
    while (!this.lines.length) {
      if (this.closed) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
    return this.lines.shift()!;
  }

  /**
   * The answer to report `id`, about to be sent; null when none comes within `ms` or stdin closes. An answer to
   * another report (a late one, after its report went over HTTP) is dropped.
   */
  answer(id: number, ms: number): Promise<ReportAnswer | null> {
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(null), ms);
      this.answered = { id, resolve: (a) => (clearTimeout(timer), resolve(a)) };
    });
  }

  private settle(a: ReportAnswer | null): void {
    const answered = this.answered;
    if (!answered || (a && a.id !== answered.id)) return;
    this.answered = null;
    answered.resolve(a);
  }

  private async pump(input: ReadableStream<Uint8Array>): Promise<void> {
    const splitter = new LineSplitter();
    const reader = input.getReader();
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read())
        for (const line of splitter.push(r.value)) {
          const answer = parseReportAnswer(line);
          if (answer) this.settle(answer);
          else this.lines.push(line), this.wake?.();
        }
    } catch {
      // stdin failed: as closed
    }
    this.closed = true;
    this.wake?.();
    this.settle(null);
  }
}
