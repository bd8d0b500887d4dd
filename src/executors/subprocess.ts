/**
 * SubprocessExecutor: runs each task instance try as `leoflow agent` on this host, in its own process group
 * so a Ctrl-C to the server does not kill running tasks. No isolation: user code runs as the server's user,
 * which is why it warns at start and Pro uses it only when asked for explicitly. Two walls still hold:
 * - the agent starts from an allowlisted environment (task-env.ts), never the server's own;
 * - one try at a time: the agent reports its user process group on stdout (control-line.ts), and when the
 *   agent exits for any reason that group is stopped before the exit is reported (so before a retry can be
 *   planned); a new try of a task instance first stops what is left of its earlier tries.
 * Not covered: agents a previous server process started (it knew their groups, this one does not), and a
 * SIGKILL of the agent in the instant between starting the user process and writing the control line.
 */
import type { Logger } from "../observability";
import { LineSplitter, parseControlLine } from "../agent";
import type { Executor, ExecutorRequest } from "./executor";
import { stopProcessGroup } from "./process-group";
import { AGENT_SETTINGS_ENV, agentLaunchEnv, toError } from "../domain";

export interface AgentExit {
  taskInstanceId: number;
  tryNumber: number;
  exitCode: number | null;
  signal: string | null;
}

export interface SubprocessExecutorOptions {
  /** argv prefix that starts this leoflow program (see agent's selfCommand). */
  selfCommand: string[];
  logger: Logger;
  /** Called when an agent process exits (after its user process group is stopped), so a crash before it reported can fail the task instance. */
  onAgentExit?: (exit: AgentExit) => void;
  /** --task-env-passthrough patterns: server variables tasks may see besides the base allowlist. */
  taskEnvPassthrough?: readonly string[];
  /** Where the allowlist is taken from; default process.env. */
  env?: Record<string, string | undefined>;
  /** SIGTERM → SIGKILL grace for a user process group left behind by its agent. Default 10 s. */
  killGraceMs?: number;
}

interface Launched {
  tryNumber: number;
  proc: Bun.Subprocess<"ignore", "pipe", "inherit">;
  /** Resolves once the agent has exited and its user process group is stopped. */
  done: Promise<void>;
}

export class SubprocessExecutor implements Executor {
  readonly name = "subprocess";
  private readonly running = new Map<string, Launched>();
  private readonly graceMs: number;

  constructor(private readonly opts: SubprocessExecutorOptions) {
    this.graceMs = opts.killGraceMs ?? 10_000;
    opts.logger.warn("subprocess executor: task code runs unsandboxed on this host as this user");
  }

  async execute(req: ExecutorRequest): Promise<void> {
    const earlier = this.earlierTries(req);
    if (!earlier.length) return this.launch(req);
    // Stopping may take the kill grace; the dispatcher (inline in Lite) must not wait for it, so this try is
    // launched once the earlier ones are gone. A launch failure then leaves it queued for dispatch_lost.
    void this.stopAll(earlier)
      .then(() => this.launch(req))
      .catch((e) =>
        this.opts.logger.error("launching a task's agent failed", {
          ti_id: req.taskInstanceId,
          task_id: req.taskId,
          try_number: req.tryNumber,
          error: toError(e),
        }),
      );
  }

  private launch(req: ExecutorRequest): void {
    const key = `${req.taskInstanceId}:${req.tryNumber}`;
    const env = agentLaunchEnv(this.opts.env ?? process.env, this.opts.taskEnvPassthrough ?? [], {
      // The token goes by environment, not argv, so other users cannot read it from `ps`.
      LEOFLOW_AGENT_TOKEN: req.agentToken,
      LEOFLOW_SERVER: req.controlPlaneUrl,
      [AGENT_SETTINGS_ENV.control]: "stdout",
    });
    const proc = Bun.spawn([...this.opts.selfCommand, "agent", "--server", req.controlPlaneUrl], {
      env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "inherit",
      detached: true,
    });
    const done = this.watch(req, proc);
    this.running.set(key, { tryNumber: req.tryNumber, proc, done });
    void done.finally(() => this.running.delete(key));
  }

  /** Stops the try: SIGTERM to the agent (it stops its task and reports), SIGKILL if it does not exit in time. */
  async cancel(taskInstanceId: number, tryNumber: number): Promise<void> {
    const launched = this.running.get(`${taskInstanceId}:${tryNumber}`);
    if (launched) await this.stop(launched);
  }

  /** Waits up to graceMs for running agents; agents still running are left to finish and report later. */
  async close(graceMs: number): Promise<void> {
    const all = [...this.running.values()].map((l) => l.proc.exited);
    if (!all.length) return;
    this.opts.logger.info("waiting for running tasks to finish", { count: all.length, grace_seconds: graceMs / 1000 });
    const timedOut = await Promise.race([Promise.all(all).then(() => false), Bun.sleep(graceMs).then(() => true)]);
    if (timedOut)
      this.opts.logger.warn("tasks still running after the grace period; they keep running and report when the server is back", {
        count: this.running.size,
      });
    for (const l of this.running.values()) l.proc.unref();
  }

  /** Reads the agent's control line; when the agent exits, stops its user group, then reports the exit. */
  private async watch(req: ExecutorRequest, proc: Launched["proc"]): Promise<void> {
    let pgid: number | null = null;
    const splitter = new LineSplitter();
    const onLine = (line: string) => (pgid = parseControlLine(line)?.user_pgid ?? pgid);
    const reader = proc.stdout.getReader();
    const reading = (async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read()) splitter.push(r.value).forEach(onLine);
      splitter.end().forEach(onLine);
    })().catch(() => {}); // a broken pipe only costs us the group id; the exit is still reported below
    const exitCode = await proc.exited;
    // Not EOF: a process the agent started may hold its stdout open. What the agent wrote is in the pipe
    // already; a short wait reads it.
    await Promise.race([reading, Bun.sleep(200)]);
    void reader.cancel().catch(() => {});
    if (pgid !== null) {
      const did = await stopProcessGroup(pgid, this.graceMs);
      if (did !== "none")
        this.opts.logger.warn("stopped the task's processes its agent left running", {
          ti_id: req.taskInstanceId,
          task_id: req.taskId,
          try_number: req.tryNumber,
          pgid,
          signal: did === "kill" ? "SIGKILL" : "SIGTERM",
        });
    }
    this.opts.onAgentExit?.({
      taskInstanceId: req.taskInstanceId,
      tryNumber: req.tryNumber,
      exitCode: proc.signalCode ? null : exitCode,
      signal: proc.signalCode ? String(proc.signalCode) : null,
    });
  }

  /** Launched earlier tries of the same task instance that are still running (or still being stopped). */
  private earlierTries(req: ExecutorRequest): Launched[] {
    const earlier = [...this.running.entries()].filter(
      ([key, l]) => key.startsWith(`${req.taskInstanceId}:`) && l.tryNumber < req.tryNumber,
    );
    for (const [, l] of earlier)
      this.opts.logger.warn("an earlier try of this task instance is still running; stopping it before the next try starts", {
        ti_id: req.taskInstanceId,
        task_id: req.taskId,
        running_try: l.tryNumber,
        next_try: req.tryNumber,
      });
    return earlier.map(([, l]) => l);
  }

  private async stopAll(tries: Launched[]): Promise<void> {
    await Promise.all(tries.map((l) => this.stop(l)));
  }

  private async stop(l: Launched): Promise<void> {
    l.proc.kill("SIGTERM");
    l.proc.kill("SIGCONT"); // a frozen agent acts on SIGTERM only once continued (see process-group.ts)
    // The agent gives its task the same grace before SIGKILL; past that (a hung agent), kill it: `watch`
    // then stops the group it leaves behind.
    const exited = await Promise.race([
      l.proc.exited.then(() => true),
      Bun.sleep(this.graceMs + Math.min(5_000, this.graceMs)).then(() => false),
    ]);
    if (!exited) l.proc.kill("SIGKILL");
    await l.done;
  }
}
