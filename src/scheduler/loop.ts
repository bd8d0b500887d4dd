/**
 * SchedulerLoop: the I/O shell around the pure planner. It wakes the moment something changes (a task
 * reported, a run was triggered) for just the runs that changed, and sweeps every active run on an interval
 * as a backstop. Each tick: load snapshots → planRun each (errors contained per run) → apply all
 * transitions in one batch → pick dispatchable work within capacity → mark it queued → dispatch.
 * The loop never dies: a failed tick is logged and the next one runs.
 */
import type { DagSpec, TaskState } from "../domain";
import type { Logger } from "../observability";
import type { DagRunRecord, RunSnapshot, Store, TaskInstanceRecord, TaskNoteUpdate, TaskTransition } from "../store";
import type { TaskDispatcher } from "../dispatch";
import { AtCapacityError } from "../dispatch";
import { planRun } from "./planner";
import { selectDispatchable } from "./capacity";
import { isWaitingNote, loadPastBlocks, poolLimits, waitingNotes } from "./waiting";
import { selectRunsToPlan } from "./run-limits";
import { planRunTimeout, runTimeoutAt } from "./run-timeout";

/** Every this many sweeps, a sweep reloads every active run regardless (a backstop for the backstop). */
export const FULL_SWEEP_EVERY = 60;
/** How far back a sweep looks past the previous one for changes, for clock skew between replicas. */
const CLOCK_SLACK_MS = 2_000;

/** Creates the runs schedules are due for (cron, catchup). Owned by the scheduling-semantics module. */
export interface DueRunCreator {
  /** Creates due runs; returns their ids (to plan at once) and when the next slot is due. */
  createDueRuns(now: Date): Promise<{ created: number[]; nextDueAt: Date | null }>;
}

/** Fails what nothing will ever finish (lost agents, lost dispatches, orphaned runs). Runs on full sweeps. */
export interface Reaper {
  /** Returns the ids of runs it changed, so they are planned in the same tick. */
  reap(now: Date): Promise<number[]>;
}

/** Runs tasks inside the control plane (inline http). It owns their state: no queued step. */
export interface InlineStarter {
  accepts(task: DagSpec["tasks"][number]): boolean;
  /** "busy" leaves the task scheduled for the next tick (concurrency limit reached). */
  start(ti: TaskInstanceRecord, run: DagRunRecord, spec: DagSpec): Promise<"started" | "busy">;
}

/** What to do when launching a queued task instance failed. Default: fail the try with the reason. */
export type DispatchFailureHandler = (ti: TaskInstanceRecord, error: Error, now: Date) => Promise<void>;

/** Which scheduled task instances must not be launched yet: by id, the try it applies to and until when. */
export interface DispatchGate {
  heldUntil(now: Date): Promise<Map<number, { try_number: number; until: Date }>>;
}

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
  runCreator?: DueRunCreator;
  reaper?: Reaper;
  inline?: InlineStarter;
  onDispatchFailure?: DispatchFailureHandler;
  /** Holds back launches that are backing off after a failed dispatch (the dispatch retry policy). */
  dispatchGate?: DispatchGate;
  /** Pro's split-brain guard, asked before every tick: false = this replica no longer leads, skip the tick. */
  leaderGuard?: () => Promise<boolean>;
}

/** A tick in flight gave up because the loop was stopped (a leader stepping down must not write on). */
class TickCancelledError extends Error {}

export interface TickReport {
  runs: number;
  transitions: number;
  dispatched: number;
  durationMs: number;
}

type Planned = { snap: RunSnapshot; spec: DagSpec };
type Candidate = { ti: TaskInstanceRecord; run: DagRunRecord; spec: DagSpec; runQueuedAt: Date; maxActiveTasks: number };

export class SchedulerLoop {
  private readonly dirty = new Set<number>();
  private fullSweepDue = true;
  private ticking: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  /** Set by stop(), cleared by start(): a tick in flight gives up at its next checkpoint. */
  private cancelled = false;
  private sweepTimer: Timer | null = null;
  /** Runs to plan again at a time of their own (retry delays), and the one timer for the earliest. */
  private readonly wakeAt = new Map<number, number>();
  private wakeTimer: { at: number; timer: Timer } | null = null;
  private readonly specs = new Map<number, DagSpec>();
  /** Runs left unplanned by run limits (paused DAG, max_active_runs), by dag_id: replanned when a run of it ends. */
  private readonly held = new Map<number, string>();
  /** Runs with a task held back by depends_on_past: a task finishing in another run may free it, so every tick plans them. */
  private readonly waiting = new Set<number>();
  /** Scheduled task instances that did not fit last tick (pool, parallelism, max_active_tasks), by id. */
  private readonly waitingCandidates = new Map<number, Candidate>();
  /** Active run ids as of the previous sweep; null until the first (full) sweep. */
  private knownActive: Set<number> | null = null;
  private lastSweepAt = 0;
  private sweepsSinceFull = 0;
  /** A run ended since the last tick: creating due runs may now fit under max_active_runs. */
  private runEnded = false;
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
    this.cancelled = false;
    this.lastTickAt = null;
    this.leadingSince = this.now();
    this.knownActive = null; // a new term starts with a full sweep
    this.waitingCandidates.clear();
    this.sweepTimer = setInterval(() => this.wake(), this.opts.sweepIntervalMs);
    this.wake();
  }

  /** Stops ticking; resolves when the tick in flight (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelled = true;
    this.leadingSince = null;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer.timer);
    this.sweepTimer = this.wakeTimer = null;
    // Timed wake-ups belong to this term: a leftover entry would keep armWake from arming a timer later.
    this.wakeAt.clear();
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
          if (this.opts.leaderGuard && !(await this.opts.leaderGuard())) break;
          await this.tick();
        } catch (e) {
          if (e instanceof TickCancelledError) this.opts.logger.warn("tick cancelled: the scheduler is stepping down or stopping (expected)");
          else this.opts.logger.error("scheduler tick failed; the next tick will retry", { error: e as Error });
        }
      } while (this.again && !this.stopped);
    } finally {
      this.ticking = null;
    }
  }

  /**
   * The runs a sweep plans. The first sweep after start (or after leading again), and one in every
   * FULL_SWEEP_EVERY, loads every active run; the others load only what is new or changed since the previous
   * sweep, runs waiting on their past or held by run limits, and runs whose timed wake-up is due (tasks
   * waiting for capacity compete from memory, see waitingCandidates) — so a sweep over 10,000 quiet runs
   * costs two index reads, not a
   * reload of 100,000 task instances. Missed wake-ups (another replica's notify lost) are still caught,
   * because every task-instance write stamps updated_at.
   */
  private async sweepIds(now: Date): Promise<number[]> {
    const store = this.opts.store;
    const active = await store.listActiveRunIds();
    const known = this.knownActive;
    const incremental = known !== null && this.sweepsSinceFull < FULL_SWEEP_EVERY;
    const ids = new Set<number>(this.dirty);
    if (incremental) {
      for (const id of active) if (!known.has(id)) ids.add(id);
      // Slack: replicas stamp updated_at with their own clocks.
      const activeSet = new Set(active);
      for (const id of await store.listRunIdsChangedSince(new Date(this.lastSweepAt - CLOCK_SLACK_MS)))
        if (activeSet.has(id)) ids.add(id);
      for (const id of this.waiting) ids.add(id);
      for (const id of this.held.keys()) ids.add(id);
      // Time-based work that is due (a retry delay, a dispatch backoff, a timeout), even if its timer has
      // not fired yet: the sweep must never be later than the timer it backs up.
      for (const [id, at] of this.wakeAt) if (id !== -1 && at <= now.getTime()) ids.add(id);
      this.sweepsSinceFull++;
    } else {
      for (const id of active) ids.add(id);
      this.sweepsSinceFull = 0;
    }
    this.knownActive = new Set(active);
    this.lastSweepAt = now.getTime();
    return [...ids];
  }

  /** One scheduling iteration. Public for tests and the benchmark. */
  async tick(): Promise<TickReport> {
    const started = performance.now();
    const now = this.now();
    const store = this.opts.store;
    const full = this.fullSweepDue;
    this.fullSweepDue = false;
    const createDue = full || this.runEnded;
    this.runEnded = false;
    if (createDue && this.opts.runCreator) {
      try {
        const { created, nextDueAt } = await this.opts.runCreator.createDueRuns(now);
        for (const id of created) this.dirty.add(id);
        if (nextDueAt) this.armWake(-1, nextDueAt.getTime());
      } catch (e) {
        this.opts.logger.error("creating scheduled runs failed; planning goes on", { error: e as Error });
      }
    }
    if (full && this.opts.reaper) {
      try {
        for (const id of await this.opts.reaper.reap(now)) this.dirty.add(id);
      } catch (e) {
        this.opts.logger.error("reaping failed; planning goes on", { error: e as Error });
      }
    }
    const ids = full ? await this.sweepIds(now) : [...new Set([...this.dirty, ...this.waiting])];
    this.dirty.clear();
    // Paused DAGs, max_active_runs and backfill limits decide which runs are planned at all (run-limits.ts).
    // Runs with candidates waiting for capacity are gated too (a pause must stop them), but not reloaded.
    const toLoad = new Set(ids);
    const gateIds = [...new Set([...ids, ...[...this.waitingCandidates.values()].map((c) => c.run.id)])];
    const gate = gateIds.length ? selectRunsToPlan(await store.loadRunGates(gateIds)) : { plan: [], held: [] };
    for (const id of gateIds) this.held.delete(id);
    for (const h of gate.held) this.held.set(h.id, h.dag_id);
    const planIds = gate.plan.filter((id) => toLoad.has(id));
    const snapshots = planIds.length ? await store.loadRunSnapshots(planIds) : [];
    const deadline = started + (this.opts.tickTimeoutMs ?? 5_000);

    const transitions: TaskTransition[] = [];
    const transitionRun: number[] = [];
    const runChanges: { run: DagRunRecord; from: DagRunRecord["state"][]; to: DagRunRecord["state"]; note?: string }[] = [];
    const planned: Planned[] = [];
    const notes: TaskNoteUpdate[] = [];
    const pastBlocks = await loadPastBlocks(store, snapshots, (v) => this.specFor(v));
    let deferred = 0;
    for (const snap of snapshots) {
      if (performance.now() > deadline) {
        // Over budget: leave the rest for the next tick rather than stall wake-ups behind a huge tick.
        this.dirty.add(snap.run.id);
        this.again = true;
        deferred++;
        continue;
      }
      try {
        const spec = await this.specFor(snap.run.version_id);
        const timeout = planRunTimeout(snap.run, snap.tis, spec, now);
        if (timeout) {
          for (const t of timeout.transitions) transitions.push(t), transitionRun.push(snap.run.id);
          runChanges.push({ run: snap.run, from: ["running"], to: "failed", note: timeout.note });
          continue;
        }
        const timeoutAt = runTimeoutAt(snap.run, spec);
        if (timeoutAt) this.armWake(snap.run.id, timeoutAt.getTime());
        const plan = planRun({ run: snap.run, tis: snap.tis, spec, blockedByPast: pastBlocks.get(snap.run.id) }, now);
        if (plan.notes) notes.push(...plan.notes);
        for (const t of plan.transitions) transitions.push(t), transitionRun.push(snap.run.id);
        if (plan.run) runChanges.push({ run: snap.run, ...plan.run });
        if (plan.nextWakeAt) this.armWake(snap.run.id, plan.nextWakeAt.getTime());
        planned.push({ snap, spec });
      } catch (e) {
        this.opts.logger.error("planning a run failed; other runs continue", {
          dag_id: snap.run.dag_id,
          run_id: snap.run.run_id,
          error: e as Error,
        });
      }
    }
    if (deferred) this.opts.logger.warn("tick budget spent; remaining runs move to the next tick", { deferred });

    this.throwIfCancelled();
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
    // Each change is its own conditional write; on Postgres they go out together (the first sweep after a
    // start can move thousands of runs to running).
    const changed = await Promise.all(runChanges.map((c) => store.setDagRunState(c.run.id, c.from, c.to, now, c.note)));
    runChanges.forEach((c, i) => {
      if (!changed[i]) return;
      this.opts.logger.info(`dag run ${c.to}`, { dag_id: c.run.dag_id, run_id: c.run.run_id, ...(c.note ? { note: c.note } : {}) });
      if (c.to === "success" || c.to === "failed") this.onRunEnded(c.run.dag_id);
    });

    for (const id of ids) this.waiting.delete(id);
    for (const id of pastBlocks.keys()) this.waiting.add(id);
    const dispatched = await this.dispatchReady(planned, newState, now, notes);
    // Waiting reasons are written once, when they change, in one batch.
    if (notes.length) await store.setTaskInstanceNotes(notes);
    this.lastTickAt = this.now();
    return {
      runs: snapshots.length,
      transitions: applied.filter(Boolean).length,
      dispatched,
      durationMs: performance.now() - started,
    };
  }

  private async dispatchReady(planned: Planned[], newState: Map<number, TaskState>, now: Date, notes: TaskNoteUpdate[]): Promise<number> {
    const candidates: Candidate[] = [];
    const plannedRuns = new Set<number>();
    for (const { snap, spec } of planned) {
      plannedRuns.add(snap.run.id);
      for (const ti of snap.tis)
        if ((newState.get(ti.id) ?? ti.state) === "scheduled")
          candidates.push({ ti, run: snap.run, spec, runQueuedAt: snap.run.queued_at, maxActiveTasks: spec.max_active_tasks });
    }
    // Candidates that waited for capacity last time compete again without their runs being reloaded: a
    // freshly planned run replaces its own, and a held run (paused DAG) withdraws them. A stale one (cleared,
    // marked) is harmless: queueing it is conditional on its state and try.
    for (const [id, c] of this.waitingCandidates)
      if (plannedRuns.has(c.run.id) || this.held.has(c.run.id)) this.waitingCandidates.delete(id);
      else candidates.push(c);
    this.waitingCandidates.clear();
    if (!candidates.length) return 0;
    // Three independent reads, at once: one round trip of waiting instead of three on Postgres.
    const [held, active, poolUsage] = await Promise.all([
      this.opts.dispatchGate ? this.opts.dispatchGate.heldUntil(now) : null,
      this.opts.store.countActiveTaskInstances(),
      this.opts.store.listPoolUsage(),
    ]);
    if (held) {
      // A launch backing off after a dispatch failure waits for its time; its run is planned again then.
      for (let i = candidates.length - 1; held.size && i >= 0; i--) {
        const c = candidates[i]!;
        const h = held.get(c.ti.id);
        if (h && h.try_number === c.ti.try_number) this.armWake(c.run.id, h.until.getTime()), candidates.splice(i, 1);
      }
      if (!candidates.length) return 0;
    }

    let running = 0;
    for (const n of active.values()) running += n;
    const pools = poolLimits(poolUsage);
    const { dispatch: selected, waiting } = selectDispatchable(candidates, { parallelism: this.opts.parallelism, running, runningByDag: active, ...pools });
    notes.push(...waitingNotes(waiting));
    for (const w of waiting) this.waitingCandidates.set(w.candidate.ti.id, { ...w.candidate, ti: { ...w.candidate.ti, note: w.reason } });
    if (!selected.length) return 0;
    this.throwIfCancelled();
    const inline = this.opts.inline;
    const inlineTasks = inline ? selected.filter((c) => inline.accepts(c.spec.tasks.find((t) => t.task_id === c.ti.task_id)!)) : [];
    const dispatch = inlineTasks.length ? selected.filter((c) => !inlineTasks.includes(c)) : selected;
    let started = 0;
    // Started together: each start is a store write, and the runner reserves its slots synchronously.
    await Promise.all(
      inlineTasks.map(async (c) => {
        try {
          if ((await inline!.start(c.ti, c.run, c.spec)) === "started") started++;
        } catch (e) {
          await this.onDispatchFailure(c.ti, e as Error, now);
        }
      }),
    );
    const queued = await this.opts.store.applyTransitions(
      dispatch.map((c) => ({
        id: c.ti.id,
        from: ["scheduled"],
        to: "queued",
        try_number: c.ti.try_number,
        patch: { queued_at: now, executor: this.opts.executorName ?? null, ...(isWaitingNote(c.ti.note) ? { note: null } : {}) },
      })),
      now,
    );
    const launched = dispatch.filter((_, i) => queued[i]);
    let refused = 0;
    await Promise.all(
      launched.map(async (c) => {
        try {
          await this.opts.dispatcher.dispatch(c.ti, c.run, c.spec);
        } catch (e) {
          if (e instanceof AtCapacityError) refused++, await this.returnToScheduled(c.ti, now);
          else await this.onDispatchFailure(c.ti, e as Error, now);
        }
      }),
    );
    return launched.length - refused + started;
  }

  /** Records a launch that failed after dispatch() returned (the buffered dispatcher's failure sink). */
  dispatchFailed(ti: TaskInstanceRecord, error: Error): Promise<void> {
    return this.onDispatchFailure(ti, error, this.now());
  }

  /** A full dispatch buffer is backpressure, not a failure: queued → scheduled on the same try, for a later tick. */
  private async returnToScheduled(ti: TaskInstanceRecord, now: Date): Promise<void> {
    try {
      await this.opts.store.applyTransitions(
        [{ id: ti.id, from: ["queued"], to: "scheduled", try_number: ti.try_number, patch: { queued_at: null, executor: null } }],
        now,
      );
    } catch (e) {
      this.opts.logger.error("could not hand a refused launch back to scheduled; the dispatch-lost reaper will", { task_id: ti.task_id, error: e as Error });
    }
  }

  private throwIfCancelled(): void {
    if (this.cancelled) throw new TickCancelledError("scheduler tick cancelled");
  }

  /** A finished run frees a max_active_runs slot: plan the DAG's held runs and let due runs be created. */
  private onRunEnded(dagId: string): void {
    this.runEnded = true;
    this.again = true;
    for (const [id, heldDag] of this.held) if (heldDag === dagId) this.dirty.add(id);
  }

  private async onDispatchFailure(ti: TaskInstanceRecord, error: Error, now: Date): Promise<void> {
    try {
      await (this.opts.onDispatchFailure ?? this.failDispatch)(ti, error, now);
    } catch (e) {
      this.opts.logger.error("recording a dispatch failure failed", { task_id: ti.task_id, error: e as Error });
    }
  }

  /** A launch that failed leaves nothing running: fail the try with the reason so retries and the run go on. */
  private readonly failDispatch: DispatchFailureHandler = async (ti, error, now) => {
    const note = `dispatch_failed: ${error.message}`;
    this.opts.logger.error("dispatch failed", { dag_id: ti.dag_id, run_id: ti.run_id, task_id: ti.task_id, error });
    await this.opts.store.applyTransitions(
      [{ id: ti.id, from: ["queued", "scheduled"], to: "failed", try_number: ti.try_number, patch: { end_date: now, note } }],
      now,
    );
    this.wake(ti.dag_run_id);
  };

  /** Plans run `runId` again at `at` (epoch ms); -1 stands for "a full sweep" (the next cron slot). */
  private armWake(runId: number, at: number): void {
    const known = this.wakeAt.get(runId);
    if (known !== undefined && known <= at) return;
    this.wakeAt.set(runId, at);
    if (this.stopped || (this.wakeTimer && this.wakeTimer.at <= at)) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer.timer);
    this.wakeTimer = { at, timer: setTimeout(() => this.fireWakes(), Math.max(0, at - this.now().getTime())) };
  }

  private fireWakes(): void {
    this.wakeTimer = null;
    const now = this.now().getTime();
    let next = Infinity;
    for (const [runId, at] of this.wakeAt) {
      if (at > now) {
        next = Math.min(next, at);
        continue;
      }
      this.wakeAt.delete(runId);
      this.wake(runId === -1 ? undefined : runId);
    }
    if (next !== Infinity) this.wakeTimer = { at: next, timer: setTimeout(() => this.fireWakes(), next - now) };
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
