/**
 * InlineRunner: runs `http` tasks inside the control plane (the scheduler loop's `inline` hook). It owns their
 * state from `scheduled`: no queued step, no agent. Bounded by a concurrency limit (at the limit a task stays
 * scheduled for the next tick) and a duration cap (a task asking for more is refused with the reason). Each
 * attempt writes a log line (method, log-safe URL, status, duration); a success stores the response body as
 * the `return_value` XCom. Failures fail the try; the task's own retries then go through the planner.
 *
 * @example
 * const inline = new InlineRunner({ store, logger, concurrency: 64, maxSeconds: 300, wake: (id) => loop.wake(id) });
 * new SchedulerLoop({ ..., inline });
 */
import type { DagSpec, TaskSpec } from "../domain";
import type { Logger } from "../observability";
import type { DagRunRecord, Store, TaskInstanceRecord } from "../store";
import type { Executor, ExecutorRequest } from "./executor";
import { InlineHttpExecutor, type AttemptReport, type HttpResult } from "./inline-http";
import { buildHttpCall, safeText } from "./inline-request";
import { candidateKeys, templateParams, templateRefs, type TemplateContext } from "./templating";

export const INLINE_EXECUTOR_NAME = "inline";
export const INLINE_HOSTNAME = "inline";

export interface InlineRunnerOptions {
  store: Store;
  logger: Logger;
  /** Tasks running at once; at the limit `start` answers "busy". */
  concurrency: number;
  /** Longest an inline task may run (seconds); a task asking for more is refused. */
  maxSeconds: number;
  /** Plans the run again after a task finished. */
  wake: (dagRunId: number) => void;
  http?: InlineHttpExecutor;
  /** Refreshes last_heartbeat of running inline tasks so heartbeat reapers leave them alone. Default 5000. */
  heartbeatIntervalMs?: number;
  now?: () => Date;
}

export interface InlineMetrics {
  started: number;
  succeeded: number;
  failed: number;
  /** Start requests answered "busy" (concurrency limit reached). */
  busy: number;
  /** Tasks refused before starting (duration over the cap). */
  rejected: number;
}

/** Whether the inline runner takes `task`: an http task, inline or unset mode, no other executor named. */
export function acceptsInline(task: Pick<TaskSpec, "operator" | "execution_mode" | "executor">): boolean {
  return (
    task.operator === "http" &&
    (task.execution_mode ?? "inline") === "inline" &&
    (task.executor === undefined || task.executor === INLINE_EXECUTOR_NAME)
  );
}

/** Why `task` may not run inline under a cap of `maxSeconds`, or null. Also used at DAG load. */
export function inlineDurationProblem(task: Pick<TaskSpec, "task_id" | "execution_timeout" | "http">, maxSeconds: number): string | null {
  const fix = `lower it or start the server with a larger --inline-max-seconds`;
  if (task.execution_timeout !== undefined && task.execution_timeout > maxSeconds)
    return `task ${task.task_id}: execution_timeout ${task.execution_timeout}s is over the inline task cap of ${maxSeconds}s; ${fix}`;
  const t = task.http?.timeout;
  if (t !== undefined && t > maxSeconds)
    return `task ${task.task_id}: http.timeout ${t}s is over the inline task cap of ${maxSeconds}s; ${fix}`;
  return null;
}

/** The response body as an XCom value: parsed JSON when the response says JSON, else the text; none when empty. */
export function responseValue(res: Pick<HttpResult, "body" | "contentType">): { value: unknown; kind: "json" | "text" } | null {
  if (res.body === "") return null;
  if (/\bjson\b|\+json/i.test(res.contentType)) {
    try {
      return { value: JSON.parse(res.body), kind: "json" };
    } catch {
      // Mislabelled JSON is still worth keeping; the caller logs that it went in as text.
    }
  }
  return { value: res.body, kind: "text" };
}

interface Running {
  ti: TaskInstanceRecord;
  abort: AbortController;
  done: Promise<void>;
}

export class InlineRunner {
  readonly metrics: InlineMetrics = { started: 0, succeeded: 0, failed: 0, busy: 0, rejected: 0 };
  private readonly running = new Map<number, Running>();
  private starting = 0;
  private readonly http: InlineHttpExecutor;
  private readonly now: () => Date;
  private heartbeatTimer: Timer | null = null;
  private closed = false;

  constructor(private readonly opts: InlineRunnerOptions) {
    this.http = opts.http ?? new InlineHttpExecutor();
    this.now = opts.now ?? (() => new Date());
  }

  accepts(task: TaskSpec): boolean {
    return acceptsInline(task);
  }

  /** Tasks in flight now. */
  get inFlight(): number {
    return this.running.size;
  }

  /** The loop's hook: scheduled → running and off it goes, or "busy" at the limit. */
  async start(ti: TaskInstanceRecord, run: DagRunRecord, spec: DagSpec): Promise<"started" | "busy"> {
    // `starting` counts slots taken by starts still writing their running state, so concurrent starts
    // (the scheduler starts a tick's inline tasks at once) never exceed the limit.
    if (this.closed || this.running.size + this.starting >= this.opts.concurrency) {
      this.metrics.busy++;
      return "busy";
    }
    const task = this.taskOf(ti, run, spec);
    const problem = inlineDurationProblem(task, this.opts.maxSeconds);
    if (problem) {
      this.metrics.rejected++;
      await this.finish(ti, "scheduled", "failed", `inline task refused: ${problem}`);
      return "started";
    }
    this.starting++;
    try {
      await this.begin(ti, run, spec, task, "scheduled");
    } finally {
      this.starting--;
    }
    return "started";
  }

  /**
   * An Executor named "inline" for http tasks that reach the dispatcher the queued way (an http task with
   * execution_mode "agent": agents do not run http, so it runs here too, from queued).
   */
  asExecutor(): Executor {
    return {
      name: INLINE_EXECUTOR_NAME,
      execute: async (req: ExecutorRequest) => {
        const { store } = this.opts;
        const ti = await store.getTaskInstanceById(req.taskInstanceId);
        const run = ti && (await store.getDagRunById(ti.dag_run_id));
        const spec = run && (await store.getDagVersion(run.version_id));
        if (!ti || !run || !spec) throw new Error(`task instance ${req.taskInstanceId} (${req.dagId}/${req.runId}/${req.taskId}) vanished before it ran`);
        const problem = inlineDurationProblem(req.task, this.opts.maxSeconds);
        if (problem) throw new Error(`inline task refused: ${problem}`);
        await this.begin({ ...ti, try_number: req.tryNumber }, run, spec, this.taskOf(ti, run, spec), "queued");
      },
      close: (graceMs) => this.close(graceMs),
    };
  }

  /** Waits for in-flight requests up to `graceMs`, then aborts the rest (their tries fail with the reason). */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    const all = () => Promise.all([...this.running.values()].map((r) => r.done));
    if (this.running.size) {
      this.opts.logger.info("waiting for inline http tasks to finish", { count: this.running.size, grace_seconds: graceMs / 1000 });
      const timedOut = await Promise.race([all().then(() => false), Bun.sleep(graceMs).then(() => true)]);
      if (timedOut) {
        this.opts.logger.warn("inline http tasks still running after the grace period; aborting them", { count: this.running.size });
        for (const r of this.running.values()) r.abort.abort(new Error("the server shut down while the request was in flight"));
        await all();
      }
    }
    this.stopHeartbeats();
  }

  private taskOf(ti: TaskInstanceRecord, run: DagRunRecord, spec: DagSpec): TaskSpec {
    const task = spec.tasks.find((t) => t.task_id === ti.task_id);
    if (!task?.http) throw new Error(`task ${ti.task_id} is not an http task in version ${run.version_id} of DAG ${ti.dag_id}`);
    return task;
  }

  private async begin(ti: TaskInstanceRecord, run: DagRunRecord, spec: DagSpec, task: TaskSpec, from: "scheduled" | "queued"): Promise<void> {
    const now = this.now();
    const [applied] = await this.opts.store.applyTransitions(
      [
        {
          id: ti.id,
          from: [from],
          to: "running",
          try_number: ti.try_number,
          patch: { start_date: now, last_heartbeat: now, hostname: INLINE_HOSTNAME, pid: null, executor: INLINE_EXECUTOR_NAME, note: null },
        },
      ],
      now,
    );
    // Lost a race (marked, cleared): whoever won decided its state; nothing to run.
    if (!applied) return;
    this.metrics.started++;
    const abort = new AbortController();
    const entry: Running = { ti, abort, done: Promise.resolve() };
    this.running.set(ti.id, entry);
    this.startHeartbeats();
    entry.done = this.execute(ti, run, spec, task, abort).finally(() => {
      this.running.delete(ti.id);
      if (!this.running.size) this.stopHeartbeats();
    });
  }

  private async execute(ti: TaskInstanceRecord, run: DagRunRecord, spec: DagSpec, task: TaskSpec, abort: AbortController): Promise<void> {
    const log = new TaskLog(this.opts.store, ti, this.now);
    const seconds = Math.min(task.execution_timeout ?? this.opts.maxSeconds, this.opts.maxSeconds);
    const deadline = setTimeout(
      () => abort.abort(new Error(`task timed out after ${seconds}s (${task.execution_timeout !== undefined ? "execution_timeout" : "--inline-max-seconds"})`)),
      seconds * 1000,
    );
    let secrets: string[] = [];
    try {
      const ctx = await this.context(ti, run, spec, task);
      const connection = task.http!.connection_id ? await this.opts.store.getConnection(task.http!.connection_id) : null;
      const built = buildHttpCall(task.http!, ctx, connection);
      secrets = built.secrets;
      const { call } = built;
      // Logs are written in order in the background (TaskLog chains them) and flushed before the final state,
      // so the request does not wait for a store round trip.
      void log.write(
        `inline http: ${call.method} ${call.safeUrl} (timeout ${call.timeoutSeconds}s per attempt, up to ${call.retries} retr${call.retries === 1 ? "y" : "ies"})`,
      );
      const res = await this.http.run(call, abort.signal, (a) => void log.write(attemptLine(call.method, call.safeUrl, call.retries + 1, a)));
      const out = responseValue(res);
      if (out) {
        await this.opts.store.setXCom({ dag_id: ti.dag_id, run_id: ti.run_id, task_id: ti.task_id, key: "return_value" }, out.value, this.now());
        void log.write(`stored the response body (${Buffer.byteLength(res.body)} bytes, ${out.kind}) as XCom return_value`);
      }
      await log.flush();
      await this.finish(ti, "running", "success", null);
    } catch (e) {
      const reason = safeText(e instanceof Error ? e.message : String(e), secrets);
      await log.write(`task failed: ${reason}`, "stderr");
      await log.flush();
      await this.finish(ti, "running", "failed", reason);
    } finally {
      clearTimeout(deadline);
    }
  }

  /** Loads what the task's templates reference: upstream XComs and variables (dotted names, longest first). */
  private async context(ti: TaskInstanceRecord, run: DagRunRecord, spec: DagSpec, task: TaskSpec): Promise<TemplateContext> {
    const { store } = this.opts;
    // The pinned spec the scheduler planned with; re-reading it per task cost a full spec parse each time.
    const taskIds = new Set(spec.tasks.map((t) => t.task_id));
    const xcom: Record<string, unknown> = {};
    const vars: Record<string, string> = {};
    for (const ref of templateRefs(task.http!)) {
      if (ref.ns === "xcom") {
        const id = candidateKeys(ref.path).find((c) => taskIds.has(c.key))?.key;
        if (id && !Object.hasOwn(xcom, id)) {
          const x = await store.getXCom({ dag_id: run.dag_id, run_id: run.run_id, task_id: id, key: "return_value" });
          if (x) xcom[id] = x.value;
        }
      } else if (ref.ns === "var") {
        for (const c of candidateKeys(ref.path)) {
          if (Object.hasOwn(vars, c.key)) break;
          const v = await store.getVariable(c.key);
          if (v) {
            vars[c.key] = v.value;
            break;
          }
        }
      }
    }
    return {
      dag_id: run.dag_id,
      run_id: run.run_id,
      task_id: ti.task_id,
      try_number: ti.try_number,
      logical_date: run.logical_date,
      params: templateParams(spec?.params ?? {}, run.conf ?? {}),
      conf: run.conf ?? {},
      xcom,
      var: vars,
    };
  }

  private async finish(ti: TaskInstanceRecord, from: "scheduled" | "running", to: "success" | "failed", note: string | null): Promise<void> {
    const now = this.now();
    try {
      const [applied] = await this.opts.store.applyTransitions(
        [{ id: ti.id, from: [from], to, try_number: ti.try_number, patch: { end_date: now, note } }],
        now,
      );
      if (applied) {
        if (to === "success") this.metrics.succeeded++;
        else this.metrics.failed++;
        const fields = { dag_id: ti.dag_id, run_id: ti.run_id, task_id: ti.task_id, try_number: ti.try_number };
        if (to === "failed") this.opts.logger.warn(`inline task failed: ${note}`, fields);
        else this.opts.logger.debug("inline task succeeded", fields);
      }
    } catch (e) {
      this.opts.logger.error("recording an inline task's outcome failed", { task_id: ti.task_id, error: e as Error });
    }
    this.opts.wake(ti.dag_run_id);
  }

  private startHeartbeats(): void {
    if (this.heartbeatTimer) return;
    this.heartbeatTimer = setInterval(() => {
      const now = this.now();
      for (const { ti } of this.running.values()) void this.opts.store.heartbeat(ti.id, ti.try_number, now).catch(() => {});
    }, this.opts.heartbeatIntervalMs ?? 5000);
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}

export function attemptLine(method: string, safeUrl: string, total: number, a: AttemptReport): string {
  const outcome = a.status !== null ? `HTTP ${a.status}` : a.error;
  const next = a.retryInMs !== null ? `; retrying in ${a.retryInMs} ms` : "";
  return `attempt ${a.attempt}/${total}: ${method} ${safeUrl} -> ${outcome} in ${a.durationMs} ms${next}`;
}

/** The task's log for this try, written through the store in order (seq from 0, like the agent's). */
class TaskLog {
  private seq = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly ti: TaskInstanceRecord,
    private readonly now: () => Date,
  ) {}

  write(line: string, stream: "stdout" | "stderr" = "stdout"): Promise<void> {
    const seq = this.seq++;
    const entry = { timestamp: this.now(), stream, line };
    this.chain = this.chain.then(() => this.store.appendLogs(this.ti.id, this.ti.try_number, seq, [entry]).catch(() => {}));
    return this.chain;
  }

  flush(): Promise<void> {
    return this.chain;
  }
}

/**
 * The DAG-load check (DagFolderSync's `admit`): inline http tasks whose timeout is over the cap are refused
 * as import errors, so the author learns at load time rather than at the first run.
 */
export function admitInlineTasks(spec: DagSpec, maxSeconds: number): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  spec.tasks.forEach((t, i) => {
    if (!acceptsInline(t)) return;
    const problem = inlineDurationProblem(t, maxSeconds);
    if (problem) issues.push({ path: `tasks[${i}]`, message: problem });
  });
  return issues;
}
