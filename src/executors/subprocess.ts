/**
 * SubprocessExecutor: runs each task instance try as `leoflow agent` on this host, in its own process group
 * so a Ctrl-C to the server does not kill running tasks. No isolation: user code runs as the server's user,
 * which is why it warns at start and Pro uses it only when asked for explicitly. Two walls still hold:
 * - the agent starts from an allowlisted environment (task-env.ts), never the server's own;
 * - one try at a time: the agent reports its user process group on stdout (control-line.ts), and when the
 *   agent exits for any reason that group is stopped before the exit is reported (so before a retry can be
 *   planned); a new try of a task instance first stops what is left of its earlier tries.
 * With --agent-pool N (subprocess-pool.ts) the agents are started ahead and take tries on stdin; each try still
 * gets its own user process, environment and group, and ends (`done`, or the agent's exit) with that group
 * stopped before it is reported, exactly as above.
 * Not covered: agents a previous server process started (it knew their groups, this one does not), and a
 * SIGKILL of the agent in the instant between starting the user process and writing the control line.
 */
import type { Logger } from "../observability";
import type { Executor, ExecutorRequest } from "./executor";
import { stopProcessGroup } from "./process-group";
import { AgentProcess, type AgentHooks, type TryEnd } from "./subprocess-agent";
import { hostname } from "node:os";
import { WarmAgentPool } from "./subprocess-pool";
import { AGENT_SETTINGS_ENV, agentLaunchEnv, toError } from "../domain";
import { VENV_SETTINGS_ENV, type ReportResult } from "../agent/launch";

export interface AgentExit {
  taskInstanceId: number;
  tryNumber: number;
  exitCode: number | null;
  signal: string | null;
  /** Its final report was answered (TryEnd.reported): nothing is left to fail. */
  reported?: boolean;
}

export interface SubprocessExecutorOptions {
  /** argv prefix that starts this leoflow program (see agent's selfCommand). */
  selfCommand: string[];
  logger: Logger;
  /** Called when a try's agent is done with it (after its user process group is stopped), so a crash before it reported can fail the task instance. */
  onAgentExit?: (exit: AgentExit) => void;
  /** --task-env-passthrough patterns: server variables tasks may see besides the base allowlist. */
  taskEnvPassthrough?: readonly string[];
  /** Where the allowlist is taken from; default process.env. */
  env?: Record<string, string | undefined>;
  /** SIGTERM → SIGKILL grace for a user process group left behind by its agent. Default 10 s. */
  killGraceMs?: number;
  /** --agent-pool: warm agents kept for `server` (the control-plane URL); absent or size 0: an agent per try. */
  agentPool?: {
    size: number;
    server: string;
    idleMs?: number /** Start the agents on startAgentPool() (the server: once it answers). */;
    deferStart?: boolean;
  };
  /**
   * Register done by the server for a try it hands a warm agent (rpc/register.ts registerForAgent), from the
   * try's records when a chain's hand-off started it (`started`): the answer goes with the assignment and the
   * agent's first call is its report. Absent, or when it fails, the agent registers itself (its client retries
   * what may pass); so does an agent still starting (a try written running for it would, should the server die
   * before it is up, wait for agent_lost and spend a retry, where a queued one is dispatched again).
   */
  register?: (
    token: string,
    agent: { hostname: string; pid: number },
    started?: ExecutorRequest["started"] & { dagFile: string },
  ) => Promise<object>;
  /**
   * A warm agent's report sent on its control pipe, for the try it runs (rpc/handler.ts reportForAgent): the
   * answer goes back on its stdin. Absent, the agent is told to report over HTTP.
   */
  report?: (
    id: { tiId: number; tryNumber: number; dagId: string; runId: string; taskId: string },
    body: Record<string, unknown>,
  ) => Promise<ReportResult>;
  /** Where DAGs' python environments are built (`<data dir>/venvs`) and where pip installs from (python-venv.ts). */
  python?: { venvsDir: string; pipIndexUrl?: string; pipFindLinks?: string };
}

interface Launched {
  req: ExecutorRequest;
  tryNumber: number;
  agent: AgentProcess;
  /** Resolves when the agent is done with the try (its `done` line or its exit). */
  ended: Promise<TryEnd>;
  /** Resolves once the try has ended, its user process group is stopped and the end is reported. */
  done: Promise<void>;
}

export class SubprocessExecutor implements Executor {
  readonly name = "subprocess";
  private readonly running = new Map<string, Launched>();
  private readonly graceMs: number;
  private readonly pool: WarmAgentPool | null;

  constructor(private readonly opts: SubprocessExecutorOptions) {
    this.graceMs = opts.killGraceMs ?? 10_000;
    opts.logger.warn("subprocess executor: task code runs unsandboxed on this host as this user");
    const p = opts.agentPool;
    this.pool =
      p && p.size > 0
        ? new WarmAgentPool({
            size: p.size,
            server: p.server,
            idleMs: p.idleMs,
            logger: opts.logger,
            start: (h) => this.startWarm(p.server, h),
          })
        : null;
    if (!p?.deferStart) this.pool?.start();
  }

  /** Starts the warm agents of a pool made with deferStart: their start-up stays off the server's. */
  startAgentPool(): void {
    this.pool?.start();
  }

  /** A warm agent is idle now (WarmAgentPool.hasIdle): a try launched at once starts without waiting for one. */
  hasIdleAgent(): boolean {
    return this.pool?.hasIdle() ?? false;
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

  private async launch(req: ExecutorRequest): Promise<void> {
    const key = `${req.taskInstanceId}:${req.tryNumber}`;
    // The token goes by environment (cold) or stdin (warm), not argv, so other users cannot read it from `ps`.
    const own = { LEOFLOW_AGENT_TOKEN: req.agentToken, LEOFLOW_SERVER: req.controlPlaneUrl };
    const pool = this.pool && this.pool.server === req.controlPlaneUrl ? this.pool : null;
    const agent = pool ? await pool.take() : this.startCold(own);
    const ended = agent.warm ? this.runRegistered(req, agent, own) : agent.run(own);
    const done = ended
      .then((end) => this.finish(req, end))
      .catch((e) => this.opts.logger.error("ending a task's try failed", { ti_id: req.taskInstanceId, error: toError(e) }))
      .finally(() => pool?.release(agent));
    this.running.set(key, { req, tryNumber: req.tryNumber, agent, ended, done });
    void done.finally(() => this.running.delete(key));
  }

  /** A warm agent's try, registered here first when the server can and the agent is up (see `register`). */
  private async runRegistered(req: ExecutorRequest, agent: AgentProcess, own: Record<string, string>): Promise<TryEnd> {
    const register = this.opts.register;
    if (!register || !agent.ready) return agent.run(own);
    let registered: object | undefined;
    try {
      const started = req.started ? { ...req.started, dagFile: req.dagFile } : undefined;
      registered = await register(req.agentToken, { hostname: hostname(), pid: agent.proc.pid }, started);
    } catch (e) {
      this.opts.logger.debug("registering a try for its warm agent failed; the agent registers itself", {
        ti_id: req.taskInstanceId,
        try_number: req.tryNumber,
        error: toError(e),
      });
    }
    return agent.run(own, registered);
  }

  private startCold(own: Record<string, string>): AgentProcess {
    const env = this.launchEnv({ ...own, [AGENT_SETTINGS_ENV.control]: "stdout" });
    return new AgentProcess([...this.opts.selfCommand, "agent", "--server", own.LEOFLOW_SERVER ?? ""], env, false);
  }

  private startWarm(server: string, hooks: AgentHooks): AgentProcess {
    const env = this.launchEnv({ [AGENT_SETTINGS_ENV.control]: "stdout" });
    return new AgentProcess([...this.opts.selfCommand, "agent", "--warm", "--server", server], env, true, {
      ...hooks,
      onReport: (agent, body, id) => void this.answerReport(agent, body, id),
    });
  }

  /** A warm agent's report on its pipe, for the try it runs; an executor that takes none tells it to use HTTP. */
  private async answerReport(agent: AgentProcess, body: Record<string, unknown>, reportId: number): Promise<void> {
    const launched = [...this.running.values()].find((l) => l.agent === agent);
    const report = this.opts.report;
    if (!launched || !report) {
      agent.answerReport({ ok: false, code: "unavailable", message: "no report is taken on this pipe; send it over HTTP", id: reportId });
      return;
    }
    const r = launched.req;
    const id = { tiId: r.taskInstanceId, tryNumber: r.tryNumber, dagId: r.dagId, runId: r.runId, taskId: r.taskId };
    const result = await report(id, body).catch((e): ReportResult => ({ ok: false, code: "unavailable", message: toError(e).message }));
    agent.answerReport({ ...result, id: reportId });
  }

  private launchEnv(own: Record<string, string>): Record<string, string> {
    const py = this.opts.python;
    const venv: Record<string, string> = py
      ? {
          [VENV_SETTINGS_ENV.dir]: py.venvsDir,
          [VENV_SETTINGS_ENV.indexUrl]: py.pipIndexUrl ?? "",
          [VENV_SETTINGS_ENV.findLinks]: py.pipFindLinks ?? "",
        }
      : {};
    return agentLaunchEnv(this.opts.env ?? process.env, this.opts.taskEnvPassthrough ?? [], { ...venv, ...own });
  }

  /**
   * The server took the final report of this try: its agent is free within moments, so a try launched now (the
   * chain's next one, handed on by that report) waits for it rather than starting another agent. The agent's own
   * control line says the same, but may be read after that launch.
   */
  reported(taskInstanceId: number, tryNumber: number): void {
    this.running.get(`${taskInstanceId}:${tryNumber}`)?.agent.markReporting();
  }

  /** Stops the try: SIGTERM to the agent (it stops its task and reports), SIGKILL if it does not exit in time. */
  async cancel(taskInstanceId: number, tryNumber: number): Promise<void> {
    const launched = this.running.get(`${taskInstanceId}:${tryNumber}`);
    if (launched) await this.stop(launched);
  }

  /** Waits up to graceMs for running tries; agents still running are left to finish and report later. */
  async close(graceMs: number): Promise<void> {
    this.pool?.close();
    const all = [...this.running.values()].map((l) => l.ended);
    if (!all.length) return;
    this.opts.logger.info("waiting for running tasks to finish", { count: all.length, grace_seconds: graceMs / 1000 });
    const timedOut = await Promise.race([Promise.all(all).then(() => false), Bun.sleep(graceMs).then(() => true)]);
    if (timedOut)
      this.opts.logger.warn("tasks still running after the grace period; they keep running and report when the server is back", {
        count: this.running.size,
      });
    for (const l of this.running.values()) l.agent.proc.unref();
  }

  /** The try is over: stops what is left of its user group, then reports the end. */
  private async finish(req: ExecutorRequest, end: TryEnd): Promise<void> {
    if (end.pgid !== null) {
      const did = await stopProcessGroup(end.pgid, this.graceMs);
      if (did !== "none")
        this.opts.logger.warn("stopped the task's processes its agent left running", {
          ti_id: req.taskInstanceId,
          task_id: req.taskId,
          try_number: req.tryNumber,
          pgid: end.pgid,
          signal: did === "kill" ? "SIGKILL" : "SIGTERM",
        });
    }
    this.opts.onAgentExit?.({
      taskInstanceId: req.taskInstanceId,
      tryNumber: req.tryNumber,
      exitCode: end.exitCode,
      signal: end.signal,
      ...(end.reported ? { reported: true } : {}),
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
    l.agent.kill("SIGTERM");
    l.agent.kill("SIGCONT"); // a frozen agent acts on SIGTERM only once continued (see process-group.ts)
    // The agent gives its task the same grace before SIGKILL; past that (a hung agent), kill it: the try
    // then ends with the agent's exit, and `finish` stops the group it leaves behind.
    const ended = await Promise.race([l.ended.then(() => true), Bun.sleep(this.graceMs + Math.min(5_000, this.graceMs)).then(() => false)]);
    if (!ended) l.agent.kill("SIGKILL");
    await l.done;
  }
}
