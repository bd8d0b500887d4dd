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
import { parseAssignment } from "./assignment";
import { formatControlLine, type ControlMessage } from "./control-line";
import { LineSplitter } from "./line-splitter";
import { runAgent, type RunAgentOptions } from "./runner";
import { dial, registerAnswer } from "./client";
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
}

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

export async function runWarmAgent(opts: RunWarmAgentOptions = {}): Promise<number> {
  const log = opts.logger ?? createLogger("agent");
  const env = opts.env ?? process.env;
  const run = opts.run ?? runAgent;
  const control = (msg: ControlMessage) => {
    if (env[AGENT_SETTINGS_ENV.control] !== "stdout") return;
    try {
      writeSync(1, formatControlLine(msg));
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
  try {
    control({ ready: true });
    const splitter = new LineSplitter();
    const reader = (opts.input ?? Bun.stdin.stream()).getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read())
      for (const line of splitter.push(r.value)) {
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
        const client = dial(server, token, { logger: log });
        const tryDir = nextDir ?? makeTryDir();
        nextDir = null;
        idleDir = "";
        const code = await run({
          server,
          token,
          // The report is what dispatches the next task of a chain: say we are about to be free.
          client: { ...client, reportState: (req) => (control({ reporting: true }), client.reportState(req)) },
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
