/**
 * SchedulerLoop: the I/O shell around the pure planner. It wakes the moment something changes (a task
 * reported, a run was triggered) for just the runs that changed, and sweeps every active run on an interval
 * as a backstop. Each tick: load snapshots → planRun each (errors contained per run) → apply all
 * transitions in one batch → pick dispatchable work within capacity → mark it queued → dispatch.
 * The loop never dies: a failed tick is logged and the next one runs.
 */
import type { DagSpec, TaskState } from "../domain";
import type { Logger } from "../observability";
import type { DagRunRecord, RunSnapshot, Store, TaskInstanceRecord, TaskTransition } from "../store";
import type { TaskDispatcher } from "../dispatch";
import { planRun } from "./planner";
import { selectDispatchable } from "./capacity";

export interface SchedulerLoopOptions {
  store: Store;
  dispatcher: TaskDispatcher;
  logger: Logger;
  /** Full sweep period (ms). Event-driven wake-ups make it a backstop, not the latency. */
  sweepIntervalMs: number;
  /** A tick stops planning further runs past this budget; the rest go to the next tick. */
  tickTimeoutMs?: number;
  parallelism: number;
  /** Name of the standard executor, recorded on queued task instances. */
  executorName?: string;
  now?: () => Date;
}

export interface TickReport {
  runs: number;
  transitions: number;
  dispatched: number;
  durationMs: number;
}

type Planned = { snap: RunSnapshot; spec: DagSpec };

export class SchedulerLoop {
  private readonly dirty = new Set<number>();
  private fullSweepDue = true;
  private ticking: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private sweepTimer: Timer | null = null;
  private retryTimer: { at: number; timer: Timer } | null = null;
  private readonly specs = new Map<number, DagSpec>();
  private lastTickAt: Date | null = null;
  private leadingSince: Date | null = null;
  private readonly now: () => Date;

  constructor(private readonly opts: SchedulerLoopOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Starts ticking (this instance leads the scheduler). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.lastTickAt = null;
    this.leadingSince = this.now();
    this.sweepTimer = setInterval(() => this.wake(), this.opts.sweepIntervalMs);
    this.wake();
  }

  /** Stops ticking; resolves when the tick in flight (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.leadingSince = null;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer.timer);
    this.sweepTimer = this.retryTimer = null;
    await this.ticking;
  }

  /** Asks for a tick soon: for one run when given, else a full sweep. Bursts coalesce into one tick. */
  wake(dagRunId?: number): void {
    if (dagRunId === undefined) this.fullSweepDue = true;
    else this.dirty.add(dagRunId);
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.runTicks();
  }

  /**
   * Healthy while ticks keep coming within a few sweep periods. An instance that does not lead (stopped,
   * or a follower) is idle by design and healthy.
   */
  health(): { status: "healthy" | "unhealthy"; latest_scheduler_heartbeat: string | null } {
    const heartbeat = this.lastTickAt?.toISOString() ?? null;
    if (!this.leadingSince) return { status: "healthy", latest_scheduler_heartbeat: heartbeat };
    const staleAfter = Math.max(3 * this.opts.sweepIntervalMs, 10_000);
    const since = (this.lastTickAt ?? this.leadingSince).getTime();
    const healthy = this.now().getTime() - since < staleAfter;
    return { status: healthy ? "healthy" : "unhealthy", latest_scheduler_heartbeat: heartbeat };
  }

  private async runTicks(): Promise<void> {
    // setImmediate lets a burst of wake() calls in the same turn land in one tick.
    await new Promise((r) => setImmediate(r));
    try {
      do {
        this.again = false;
        try {
          await this.tick();
        } catch (e) {
          this.opts.logger.error("scheduler tick failed; the next tick will retry", { error: e as Error });
        }
      } while (this.again && !this.stopped);
    } finally {
      this.ticking = null;
    }
  }

  /** One scheduling iteration. Public for tests and the benchmark. */
  async tick(): Promise<TickReport> {
    const started = performance.now();
    const now = this.now();
    const store = this.opts.store;
    const full = this.fullSweepDue;
    this.fullSweepDue = false;
    const ids = full ? await store.listActiveRunIds() : [...this.dirty];
    this.dirty.clear();
    const snapshots = ids.length ? await store.loadRunSnapshots(ids) : [];
    const deadline = started + (this.opts.tickTimeoutMs ?? 5_000);

    const transitions: TaskTransition[] = [];
    const transitionRun: number[] = [];
    const runChanges: { run: DagRunRecord; from: DagRunRecord["state"][]; to: DagRunRecord["state"]; note?: string }[] = [];
    const planned: Planned[] = [];
    let nextWake: number | null = null;
    for (const snap of snapshots) {
      if (performance.now() > deadline) {
        // Over budget: leave the rest for the next tick rather than stall wake-ups behind a huge tick.
        this.dirty.add(snap.run.id);
        this.again = true;
        continue;
      }
      try {
        const spec = await this.specFor(snap.run.version_id);
        const plan = planRun({ run: snap.run, tis: snap.tis, spec }, now);
        for (const t of plan.transitions) transitions.push(t), transitionRun.push(snap.run.id);
        if (plan.run) runChanges.push({ run: snap.run, ...plan.run });
        if (plan.nextWakeAt) nextWake = Math.min(nextWake ?? Infinity, plan.nextWakeAt.getTime());
        planned.push({ snap, spec });
      } catch (e) {
        this.opts.logger.error("planning a run failed; other runs continue", {
          dag_id: snap.run.dag_id,
          run_id: snap.run.run_id,
          error: e as Error,
        });
      }
    }
    if (this.again && this.dirty.size) this.opts.logger.warn("tick budget spent; remaining runs move to the next tick", { deferred: this.dirty.size });

    const applied = transitions.length ? await store.applyTransitions(transitions, now) : [];
    const newState = new Map<number, TaskState>();
    applied.forEach((ok, i) => {
      const t = transitions[i]!;
      if (!ok) return;
      newState.set(t.id, t.to);
      // Anything but none→scheduled may unlock more planning (a retry reset, a terminal cascade edge).
      if (t.to !== "scheduled") {
        this.dirty.add(transitionRun[i]!);
        this.again = true;
      }
    });
    for (const c of runChanges)
      if (await store.setDagRunState(c.run.id, c.from, c.to, now, c.note))
        this.opts.logger.info(`dag run ${c.to}`, { dag_id: c.run.dag_id, run_id: c.run.run_id });
    if (nextWake !== null) this.armRetryTimer(nextWake);

    const dispatched = await this.dispatchReady(planned, newState, now);
    this.lastTickAt = this.now();
    return {
      runs: snapshots.length,
      transitions: applied.filter(Boolean).length,
      dispatched,
      durationMs: performance.now() - started,
    };
  }

  private async dispatchReady(planned: Planned[], newState: Map<number, TaskState>, now: Date): Promise<number> {
    const candidates: { ti: TaskInstanceRecord; run: DagRunRecord; spec: DagSpec; runQueuedAt: Date; maxActiveTasks: number }[] = [];
    for (const { snap, spec } of planned)
      for (const ti of snap.tis)
        if ((newState.get(ti.id) ?? ti.state) === "scheduled")
          candidates.push({ ti, run: snap.run, spec, runQueuedAt: snap.run.queued_at, maxActiveTasks: spec.max_active_tasks });
    if (!candidates.length) return 0;
    const active = await this.opts.store.countActiveTaskInstances();
    let running = 0;
    for (const n of active.values()) running += n;
    const { dispatch } = selectDispatchable(candidates, { parallelism: this.opts.parallelism, running, runningByDag: active });
    if (!dispatch.length) return 0;
    const queued = await this.opts.store.applyTransitions(
      dispatch.map((c) => ({
        id: c.ti.id,
        from: ["scheduled"],
        to: "queued",
        try_number: c.ti.try_number,
        patch: { queued_at: now, executor: this.opts.executorName ?? null },
      })),
      now,
    );
    const launched = dispatch.filter((_, i) => queued[i]);
    await Promise.all(
      launched.map(async (c) => {
        try {
          await this.opts.dispatcher.dispatch(c.ti, c.run, c.spec);
        } catch (e) {
          await this.failDispatch(c.ti, e as Error, now);
        }
      }),
    );
    return launched.length;
  }

  /** A launch that failed leaves nothing running: fail the try with the reason so retries and the run go on. */
  private async failDispatch(ti: TaskInstanceRecord, error: Error, now: Date): Promise<void> {
    const note = `dispatch_failed: ${error.message}`;
    this.opts.logger.error("dispatch failed", { dag_id: ti.dag_id, run_id: ti.run_id, task_id: ti.task_id, error });
    await this.opts.store.applyTransitions(
      [{ id: ti.id, from: ["queued"], to: "failed", try_number: ti.try_number, patch: { end_date: now, note } }],
      now,
    );
    this.wake(ti.dag_run_id);
  }

  private armRetryTimer(at: number): void {
    if (this.stopped || (this.retryTimer && this.retryTimer.at <= at)) return;
    if (this.retryTimer) clearTimeout(this.retryTimer.timer);
    this.retryTimer = {
      at,
      timer: setTimeout(() => {
        this.retryTimer = null;
        this.wake();
      }, Math.max(0, at - this.now().getTime())),
    };
  }

  private async specFor(versionId: number): Promise<DagSpec> {
    let spec = this.specs.get(versionId);
    if (!spec) {
      const loaded = await this.opts.store.getDagVersion(versionId);
      if (!loaded) throw new Error(`DAG version ${versionId} is missing from the store`);
      spec = loaded;
      this.specs.set(versionId, spec);
    }
    return spec;
  }
}
