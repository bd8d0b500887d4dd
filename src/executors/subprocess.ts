/**
 * SubprocessExecutor: runs each task instance try as `leoflow agent` on this host, in its own process group
 * so a Ctrl-C to the server does not kill running tasks. No isolation: user code runs as the server's user,
 * which is why it warns at start and Pro uses it only when asked for explicitly.
 */
import type { Logger } from "../observability";
import type { Executor, ExecutorRequest } from "./executor";

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
  /** Called when an agent process exits, so a crash before it reported can fail the task instance. */
  onAgentExit?: (exit: AgentExit) => void;
}

export class SubprocessExecutor implements Executor {
  readonly name = "subprocess";
  private readonly running = new Map<string, Bun.Subprocess>();

  constructor(private readonly opts: SubprocessExecutorOptions) {
    opts.logger.warn("subprocess executor: task code runs unsandboxed on this host as this user");
  }

  async execute(req: ExecutorRequest): Promise<void> {
    const key = `${req.taskInstanceId}:${req.tryNumber}`;
    const proc = Bun.spawn([...this.opts.selfCommand, "agent", "--server", req.controlPlaneUrl], {
      // The token goes by environment, not argv, so other users cannot read it from `ps`.
      env: { ...process.env, LEOFLOW_AGENT_TOKEN: req.agentToken },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "inherit",
      detached: true,
    });
    this.running.set(key, proc);
    void proc.exited.then((exitCode) => {
      this.running.delete(key);
      this.opts.onAgentExit?.({
        taskInstanceId: req.taskInstanceId,
        tryNumber: req.tryNumber,
        exitCode: proc.signalCode ? null : exitCode,
        signal: proc.signalCode ? String(proc.signalCode) : null,
      });
    });
  }

  async cancel(taskInstanceId: number, tryNumber: number): Promise<void> {
    this.running.get(`${taskInstanceId}:${tryNumber}`)?.kill("SIGTERM");
  }

  /** Waits up to graceMs for running agents; agents still running are left to finish and report later. */
  async close(graceMs: number): Promise<void> {
    const all = [...this.running.values()].map((p) => p.exited);
    if (!all.length) return;
    this.opts.logger.info("waiting for running tasks to finish", { count: all.length, grace_seconds: graceMs / 1000 });
    const timedOut = await Promise.race([Promise.all(all).then(() => false), Bun.sleep(graceMs).then(() => true)]);
    if (timedOut)
      this.opts.logger.warn("tasks still running after the grace period; they keep running and report when the server is back", {
        count: this.running.size,
      });
    for (const p of this.running.values()) p.unref();
  }
}
