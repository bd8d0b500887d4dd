/**
 * InlineRunner: runs `http` tasks inside the control plane (the scheduler loop's `inline` hook). It owns their
 * state from `scheduled`: no queued step, no agent. Bounded by a concurrency limit (at the limit a task stays
 * scheduled for the next tick) and a duration cap (a task asking for more is refused with the reason). Each
 * attempt writes a log line (inline-task-log.ts); a success stores the response body as the `return_value`
 * XCom. A try's end (its XCom, its lines not yet stored and its outcome) is one store write, batched with the
 * ends of the tries finishing with it (finishInlineTries). Failures fail the try; the task's own retries then go through the planner. The decisions are pure
 * (inline-rules.ts); this is the I/O around them: slots, the deadline, heartbeats and the store writes.
 *
 * @example
 * const inline = new InlineRunner({ store, logger, concurrency: 64, maxSeconds: 300, wake: (id) => loop.wake(id) });
 * new SchedulerLoop({ ..., inline });
 */
import type {
  DagRunRecord,
  DagSpec,
  LogLineRecord,
  TaskInstanceRecord,
  TaskSpec,
  TaskTransition,
  TemplateSourcePort,
  XComKey,
} from "../domain";
import { failedTryState, loadTemplateContext, toError } from "../domain";
import type { Logger } from "../observability";
import type { Executor, ExecutorRequest } from "./executor";
import { httpTemplateTexts, loadConnection } from "./inline-context";
import { InlineHttpExecutor } from "./inline-http";
import { buildHttpCall, plainHttpCall, safeText } from "./inline-request";
import {
  INLINE_EXECUTOR_NAME,
  acceptsInline,
  finishTransition,
  httpTaskOf,
  inlineDeadline,
  inlineDurationProblem,
  outcomeRetryDelayMs,
  responseValue,
  startTransition,
} from "./inline-rules";
import { TransitionBatcher, WriteBatcher } from "./inline-batch";
import { TaskLog, attemptLine, failedLine, requestLine, storingLine, type TaskLogPort } from "./inline-task-log";

/** Lines of one try, as the store's appendLogBatches takes them. */
type LogBatch = { ti_id: number; try_number: number; first_seq: number; lines: Omit<LogLineRecord, "seq">[] };
type XComItem = { key: XComKey; value: unknown };
/** A try's end as finishInlineTries takes it (the store's InlineTryEnd), with the start of the task taking its slot. */
type TryEnd = {
  transition: TaskTransition;
  lines: LogBatch | null;
  xcom: XComItem | null;
  next?: TaskTransition;
  nextScheduling?: TaskTransition;
  nextAfterSuccess?: boolean;
  failedAs?: "failed" | "up_for_retry";
};
/**
 * Whether the outcome applied, the error refusing the XCom when the store refused it (the outcome is then
 * failed, or up_for_retry with retries left), and whether the end's `next` start applied.
 */
type TryEndResult = { applied: boolean; refused: Error | null; nextApplied: boolean };
/**
 * A task chosen to take a slot as its try's end is written (the scheduler's refill and hand-over rules), with
 * its move into scheduled when it was not yet scheduled, and whether it may start only on the end's success.
 */
type Successor = { ti: TaskInstanceRecord; run: DagRunRecord; spec: DagSpec; scheduling?: TaskTransition; afterSuccess?: boolean };
/** How a try ended: whether its end applied (as success), and the successor that started in its slot. */
type TryEndOutcome = { ended: boolean; succeeded: boolean; handed: Successor | null };

/** What the runner needs from the store (the Store satisfies it; tests may pass less). */
export interface InlineRunnerPort extends TemplateSourcePort {
  applyTransitions(transitions: TaskTransition[], now: Date): Promise<boolean[]>;
  heartbeat(tiId: number, tryNumber: number, now: Date): Promise<boolean>;
  /** Many tries' log lines in one write. */
  appendLogBatches(batches: readonly LogBatch[]): Promise<void>;
  /** Many tries' ends in one write: XComs, lines and outcomes; a refused XCom fails its try (InlineTryStore). */
  finishInlineTries(ends: readonly TryEnd[], now: Date): Promise<TryEndResult[]>;
  /** Batches of ends on their way at once (InlineTryStore.inlineEndsInFlight; default 1). */
  readonly inlineEndsInFlight?: number;
  /** For http tasks that reach the dispatcher the queued way (asExecutor). */
  getTaskInstanceById(id: number): Promise<TaskInstanceRecord | null>;
  getDagRunById(id: number): Promise<DagRunRecord | null>;
  getDagVersion(versionId: number): Promise<DagSpec | null>;
}

export interface InlineRunnerOptions {
  store: InlineRunnerPort;
  logger: Logger;
  /** Tasks running at once; at the limit `start` answers "busy". */
  concurrency: number;
  /** Longest an inline task may run (seconds); a task asking for more is refused. */
  maxSeconds: number;
  /** Plans the run again after a task finished. */
  wake: (dagRunId: number) => void;
  /**
   * Told when a try's end is about to be written (its slot may look free to a reader from then on) and when
   * its slot is free again (`ended`: its end applied, `succeeded`: as success): the scheduler hands the slot to
   * a waiting task. `successor` names the task to start with the end's own write (its start applies only if
   * the end does; `freed` learns whether it started: `handed`). `freed` answering true takes the run's wake
   * over (the end needs no tick of its run).
   */
  slots?: {
    ending(ti: TaskInstanceRecord, spec: DagSpec): void;
    successor?(ti: TaskInstanceRecord, succeeded: boolean): Successor | undefined;
    freed(ti: TaskInstanceRecord, ended: boolean, succeeded: boolean, handed: boolean): boolean | undefined;
  };
  http?: InlineHttpExecutor;
  /** Refreshes last_heartbeat of running inline tasks so heartbeat reapers leave them alone. Default 5000. */
  heartbeatIntervalMs?: number;
  /** Writes of a try's outcome, the first included, before giving up (then the agent_lost reaper fails it). Default 4. */
  outcomeWriteAttempts?: number;
  now?: () => Date;
  /** Waits between outcome writes; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
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

/** Store writes that failed, by what was written. Each is also logged with the task it belongs to. */
export interface InlineWriteFailures {
  log_line: number;
  heartbeat: number;
  outcome: number;
}

interface Running {
  ti: TaskInstanceRecord;
  abort: AbortController;
  done: Promise<void>;
}

export class InlineRunner {
  readonly metrics: InlineMetrics = { started: 0, succeeded: 0, failed: 0, busy: 0, rejected: 0 };
  readonly writeFailures: InlineWriteFailures = { log_line: 0, heartbeat: 0, outcome: 0 };
  private readonly running = new Map<number, Running>();
  private starting = 0;
  private readonly http: InlineHttpExecutor;
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private heartbeatTimer: Timer | null = null;
  /** Starts, tries' ends and log lines of many tasks go to the store together (inline-batch.ts). */
  private readonly transitions: TransitionBatcher;
  private readonly ends: WriteBatcher<TryEnd, TryEndResult>;
  private readonly logs: TaskLogPort;
  private closed = false;

  constructor(private readonly opts: InlineRunnerOptions) {
    this.http = opts.http ?? new InlineHttpExecutor();
    this.now = opts.now ?? (() => new Date());
    this.sleep = opts.sleep ?? ((ms) => Bun.sleep(ms));
    this.transitions = new TransitionBatcher((ts, now) => opts.store.applyTransitions(ts, now));
    // An end is alone when its try is the only one running: no other end can join its batch.
    this.ends = new WriteBatcher((ends, now) => opts.store.finishInlineTries(ends, now), {
      inFlight: opts.store.inlineEndsInFlight,
      alone: () => this.running.size <= 1,
    });
    const lines = new WriteBatcher<LogBatch, void>(async (batches) => {
      await opts.store.appendLogBatches(batches);
      return [];
    });
    this.logs = {
      appendLogs: (tiId, tryNumber, firstSeq, l) =>
        lines.apply({ ti_id: tiId, try_number: tryNumber, first_seq: firstSeq, lines: l }, this.now()),
    };
  }

  accepts(task: TaskSpec): boolean {
    return acceptsInline(task);
  }

  /** Tasks in flight now. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Whether this try of the task instance runs here now (its start applied, its slot not yet freed). */
  isRunning(ti: Pick<TaskInstanceRecord, "id" | "try_number">): boolean {
    return this.running.get(ti.id)?.ti.try_number === ti.try_number;
  }

  /**
   * The loop's hook: scheduled → running and off it goes, or "busy" at the limit. `scheduling`: the planner's
   * transition into scheduled when the loop left it unwritten; it goes to the store in the same batch as the
   * start (or the refusal), before it. "gone": nothing runs and the slot is still free (the start did not apply,
   * the task instance having moved on: started elsewhere, marked, cleared; or it was refused before it started).
   * Throws when the store refuses a write: the task is then where it was and the loop records the failure or
   * picks it again.
   */
  async start(ti: TaskInstanceRecord, run: DagRunRecord, spec: DagSpec, scheduling?: TaskTransition): Promise<"started" | "busy" | "gone"> {
    // `starting` counts slots taken by starts still writing their running state, so concurrent starts
    // (the scheduler starts a tick's inline tasks at once) never exceed the limit.
    if (this.closed || this.running.size + this.starting >= this.opts.concurrency) {
      this.metrics.busy++;
      return "busy";
    }
    const task = httpTaskOf(ti, run, spec);
    const problem = inlineDurationProblem(task, this.opts.maxSeconds);
    if (problem) {
      this.metrics.rejected++;
      await this.refuse(ti, `inline task refused: ${problem}`, scheduling);
      return "gone"; // it takes no slot
    }
    this.starting++;
    try {
      return (await this.begin(ti, run, spec, task, "scheduled", scheduling)) ? "started" : "gone";
    } finally {
      this.starting--;
    }
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
        if (!ti || !run || !spec)
          throw new Error(`task instance ${req.taskInstanceId} (${req.dagId}/${req.runId}/${req.taskId}) vanished before it ran`);
        const problem = inlineDurationProblem(req.task, this.opts.maxSeconds);
        if (problem) throw new Error(`inline task refused: ${problem}`);
        await this.begin({ ...ti, try_number: req.tryNumber }, run, spec, httpTaskOf(ti, run, spec), "queued");
      },
      close: (graceMs) => this.close(graceMs),
    };
  }

  /** Waits for in-flight requests up to `graceMs`, then aborts the rest (their tries fail with the reason). */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    // Until none is left: a successor started by an end's write (chosen before the close) runs after that end.
    const all = async () => {
      while (this.running.size) await Promise.all([...this.running.values()].map((r) => r.done));
    };
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

  private async begin(
    ti: TaskInstanceRecord,
    run: DagRunRecord,
    spec: DagSpec,
    task: TaskSpec,
    from: "scheduled" | "queued",
    scheduling?: TaskTransition,
  ): Promise<boolean> {
    const now = this.now();
    const applied = await this.write(startTransition(ti, from, now), scheduling, now);
    // Lost a race (marked, cleared): whoever won decided its state; nothing to run.
    if (!applied) return false;
    this.run(ti, run, spec, task);
    return true;
  }

  /** Runs a try whose start applied, in a slot already counted: its request, its end, then its slot's hand-over. */
  private run(ti: TaskInstanceRecord, run: DagRunRecord, spec: DagSpec, task: TaskSpec): void {
    this.metrics.started++;
    const abort = new AbortController();
    const entry: Running = { ti, abort, done: Promise.resolve() };
    this.running.set(ti.id, entry);
    this.startHeartbeats();
    let end: TryEndOutcome = { ended: false, succeeded: false, handed: null };
    entry.done = this.execute(ti, run, spec, task, abort)
      .then((e) => void (end = e))
      .finally(() => {
        this.running.delete(ti.id);
        // The successor started by the end's write runs in the slot this try leaves.
        const next = end.handed;
        if (next) this.run(next.ti, next.run, next.spec, httpTaskOf(next.ti, next.run, next.spec));
        if (!this.running.size) this.stopHeartbeats();
        // Plans the run again after its task ended, unless the scheduler took that over with the slot.
        if (!this.opts.slots?.freed(ti, end.ended, end.succeeded, next !== null)) this.opts.wake(ti.dag_run_id);
      });
  }

  /** Runs the try and records its end; whether the end applied, and as success. */
  private async execute(
    ti: TaskInstanceRecord,
    run: DagRunRecord,
    spec: DagSpec,
    task: TaskSpec,
    abort: AbortController,
  ): Promise<TryEndOutcome> {
    const { store } = this.opts;
    const log = new TaskLog(this.logs, ti, this.now);
    const deadline = inlineDeadline(task, this.opts.maxSeconds);
    const timer = setTimeout(() => abort.abort(new Error(deadline.reason)), deadline.seconds * 1000);
    let secrets: string[] = [];
    let outcome: Outcome;
    try {
      const http = task.http!;
      let built = plainHttpCall(http, () => httpTemplateTexts(http));
      if (!built) {
        const templates = await loadTemplateContext(store, ti, run, spec, httpTemplateTexts(http));
        built = buildHttpCall(http, templates.ctx, await loadConnection(store, ti, task));
        secrets = templates.secrets;
      }
      secrets = [...built.secrets, ...secrets];
      const { call } = built;
      // Log lines are held and written in batches in the background, flushed before the final state, so the
      // request does not wait for a store round trip.
      log.write(requestLine(call));
      const res = await this.http.run(call, abort.signal, (a) => log.write(attemptLine(call.method, call.safeUrl, call.retries + 1, a)));
      const out = responseValue(res);
      let xcom: XComItem | null = null;
      if (out) {
        const key = {
          team: ti.team,
          dag_id: ti.dag_id,
          run_id: ti.run_id,
          task_id: ti.task_id,
          map_index: ti.map_index,
          key: "return_value",
        };
        xcom = { key, value: out.value };
        log.write(storingLine(Buffer.byteLength(res.body), out.kind));
      }
      outcome = { to: "success", note: null, xcom };
    } catch (e) {
      const reason = safeText(e instanceof Error ? e.message : String(e), secrets);
      log.write(failedLine(reason), "stderr");
      outcome = { to: "failed", note: reason, xcom: null };
    } finally {
      clearTimeout(timer);
    }
    this.opts.slots?.ending(ti, spec);
    return this.finish(ti, outcome, log);
  }

  /**
   * Records a running try's end: its outcome, its XCom and the log lines still held, in one write shared with
   * the tries ending with it (a refused XCom makes the store fail the try instead). A write the store refused is tried again a few times (the database may
   * be failing over), with the slot still held so heartbeats keep the try alive meanwhile; the write is
   * conditional on running and this try, so a retry after an ambiguous failure cannot apply twice. When
   * every attempt fails it is logged as an error and counted, and the try is left running without
   * heartbeats: the agent_lost reaper then fails it and the planner retries the task if it has retries left.
   * It is not thrown: nothing above the runner's own promise could record it any better.
   */
  private async finish(ti: TaskInstanceRecord, outcome: Outcome, log: TaskLog): Promise<TryEndOutcome> {
    const { to, note } = outcome;
    const held = await log.takeHeld();
    const now = this.now();
    const successor = this.successorOf(ti, to === "success");
    const end: TryEnd = {
      transition: finishTransition(ti, "running", to === "failed" ? failedTryState(ti) : to, note, now),
      lines: held.lines.length ? { ti_id: ti.id, try_number: ti.try_number, first_seq: held.firstSeq, lines: held.lines } : null,
      xcom: outcome.xcom,
      failedAs: failedTryState(ti),
      ...(successor ? nextOf(successor, now) : {}),
    };
    const attempts = this.opts.outcomeWriteAttempts ?? 4;
    let ended = false;
    let succeeded = false;
    let handed: Successor | null = null;
    for (let attempt = 1; ; attempt++) {
      try {
        // Written again whole after a failure: the XCom is an upsert, lines already stored are ignored.
        const { applied, refused, nextApplied } = await this.ends.apply(end, now);
        ended = applied;
        succeeded = applied && to === "success" && !refused;
        if (successor && nextApplied) handed = successor;
        if (applied) this.counted(ti, refused ? "failed" : to, refused ? refused.message : note);
        // The store failed the try with the refusal as its note; its log says so after the final state.
        if (refused) {
          log.write(failedLine(refused.message), "stderr");
          await log.flush();
        }
        break;
      } catch (e) {
        this.writeFailures.outcome++;
        // Whether the successor started is unknown after a failed write: it is not asked again (a start that did
        // apply, with nothing running it, is the agent_lost reaper's, as for any lost start write).
        delete end.next;
        delete end.nextScheduling;
        delete end.nextAfterSuccess;
        const delay = outcomeRetryDelayMs(attempt, attempts);
        const fields = { ...taskFields(ti), outcome: to, attempt, error: toError(e) };
        if (delay === null) {
          log.lostTaken(held.lines.length, e);
          this.opts.logger.error(
            `recording an inline task's outcome failed ${attempts} times; it stays running until the agent_lost reaper fails it (check the database)`,
            fields,
          );
          break;
        }
        this.opts.logger.warn(`recording an inline task's outcome failed; trying again in ${delay} ms`, fields);
        await this.sleep(delay);
      }
    }
    this.reportLostLines(ti, log);
    return { ended, succeeded, handed };
  }

  /**
   * The waiting task the scheduler gives this try's slot (slots.successor), to start with the end's write; none
   * when the runner is closing. One the runner would refuse (a duration over the cap) is not written as the
   * end's `next`: the scheduler then starts it the usual way, which refuses it with the reason.
   */
  private successorOf(ti: TaskInstanceRecord, succeeded: boolean): Successor | undefined {
    if (this.closed) return undefined;
    const next = this.opts.slots?.successor?.(ti, succeeded);
    if (!next || inlineDurationProblem(httpTaskOf(next.ti, next.run, next.spec), this.opts.maxSeconds)) return undefined;
    return next;
  }

  /** Writes `t`, after `scheduling` in the same batch when given; whether `t` applied. */
  private async write(t: TaskTransition, scheduling: TaskTransition | undefined, now: Date): Promise<boolean> {
    if (!scheduling) return this.transitions.apply(t, now);
    const [, applied] = await this.transitions.applyAll([scheduling, t], now);
    return applied === true;
  }

  /** Fails a task refused before it started. Throws when the store refuses: the task is where it was, so the loop picks it again. */
  private async refuse(ti: TaskInstanceRecord, note: string, scheduling?: TaskTransition): Promise<void> {
    const now = this.now();
    const applied = await this.write(finishTransition(ti, "scheduled", "failed", note, now), scheduling, now);
    if (applied) this.counted(ti, "failed", note);
    this.opts.wake(ti.dag_run_id);
  }

  private counted(ti: TaskInstanceRecord, to: "success" | "failed", note: string | null): void {
    if (to === "success") {
      this.metrics.succeeded++;
      this.opts.logger.debug("inline task succeeded", taskFields(ti));
    } else {
      this.metrics.failed++;
      this.opts.logger.warn(`inline task failed: ${note}`, taskFields(ti));
    }
  }

  /** Log lines are not worth failing a try whose request already had its effect; a loss is reported once per try. */
  private reportLostLines(ti: TaskInstanceRecord, log: TaskLog): void {
    if (!log.lost) return;
    this.writeFailures.log_line += log.lost;
    this.opts.logger.warn(`${log.lost} of ${log.written} log lines of an inline task could not be stored; its log shows gaps`, {
      ...taskFields(ti),
      error: toError(log.firstError),
    });
  }

  private startHeartbeats(): void {
    if (this.heartbeatTimer) return;
    this.heartbeatTimer = setInterval(() => void this.heartbeats(), this.opts.heartbeatIntervalMs ?? 5000);
  }

  /**
   * One heartbeat per running try. A refused one is counted and logged (one line per round): if they keep
   * failing past --agent-lost-after, the reaper fails the try, and the log says why.
   */
  private async heartbeats(): Promise<void> {
    const now = this.now();
    const tis = [...this.running.values()].map((r) => r.ti);
    const results = await Promise.allSettled(tis.map((ti) => this.opts.store.heartbeat(ti.id, ti.try_number, now)));
    const failed = results.flatMap((r, i) => (r.status === "rejected" ? [{ ti: tis[i]!, error: r.reason }] : []));
    if (!failed.length) return;
    this.writeFailures.heartbeat += failed.length;
    this.opts.logger.warn(
      `refreshing the heartbeat of ${failed.length} running inline task(s) failed; past --agent-lost-after the reaper fails them`,
      {
        task_instances: failed.map((f) => `${f.ti.dag_id}/${f.ti.run_id}/${f.ti.task_id}#${f.ti.try_number}`),
        error: toError(failed[0]!.error),
      },
    );
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}

/** How a try ended, as the runner saw it: the store may still turn a success into failed (a refused XCom). */
type Outcome = { to: "success" | "failed"; note: string | null; xcom: XComItem | null };

/** The end's fields starting `s` in the slot (InlineTryEnd.next and its companions). */
function nextOf(s: Successor, now: Date): Pick<TryEnd, "next" | "nextScheduling" | "nextAfterSuccess"> {
  return {
    next: startTransition(s.ti, "scheduled", now),
    ...(s.scheduling ? { nextScheduling: s.scheduling } : {}),
    ...(s.afterSuccess ? { nextAfterSuccess: true } : {}),
  };
}

const taskFields = (ti: TaskInstanceRecord) => ({ dag_id: ti.dag_id, run_id: ti.run_id, task_id: ti.task_id, try_number: ti.try_number });
