/**
 * SchedulerLoop: the I/O shell around the pure planner. It wakes the moment something changes (a task
 * reported, a run was triggered) for just the runs that changed, and sweeps the active runs on an interval
 * as a backstop (wake-timer.ts, run-selection.ts). Each tick: load snapshots → plan them (tick-plan.ts, errors
 * contained per run) → apply all transitions in one batch → launch what fits (dispatch-step.ts).
 * The loop never dies: a failed tick is logged and the next one runs.
 */
import type { DagSpec, RunSnapshot, TaskState, TaskInstanceRecord } from "../domain";
import { DEFAULT_MAX_MAP_LENGTH, isTerminalDagRunState, toError } from "../domain";
import type { Logger } from "../observability";
import type { SchedulerStore } from "../store";
import type { TaskDispatcher } from "../dispatch";
import { systemClock, type Clock } from "./clock";
import type { TeamQuotas } from "./capacity";
import {
  DispatchStep,
  type DispatchFailureHandler,
  type DispatchGate,
  type InlineStarter,
  type SlotSuccessor,
  type AgentHandOff,
  type DispatchStepOptions,
} from "./dispatch-step";
import { heldRunning, idsBesides, selectRunsToPlan } from "./run-limits";
import { SpecCache } from "./spec-cache";
import { LiveSnapshots } from "./live-snapshots";
import { RunSelection } from "./run-selection";
import { planTick, type RunChange, type TickPlan } from "./tick-plan";
import { expandMappedTasks } from "./expansion-step";
import { loadPastBlocks } from "./waiting";
import { SWEEP, WakeTimer, type WakeRequest } from "./wake-timer";
import { RunCreation } from "./run-creation";
import type { SensorPoller } from "./sensor-poller";

export type { DispatchFailureHandler, DispatchGate, InlineStarter } from "./dispatch-step";
export { FULL_SWEEP_EVERY } from "./run-selection";

/** Creates the runs schedules are due for (cron, catchup). Owned by the scheduling-semantics module. */
export interface DueRunCreator {
  /**
   * Creates due runs; returns their ids (to plan at once), when the next slot is due, and whether a DAG has a
   * due slot it has no room for under max_active_runs (absent: maybe, so every run end creates again).
   */
  createDueRuns(now: Date): Promise<{ created: number[]; nextDueAt: Date | null; waitingForRoom?: boolean }>;
}

/** The teams and their quotas (the store's TeamStore.listTeams satisfies it). */
export interface TeamQuotaSource {
  listTeams(): Promise<readonly (TeamQuotas & { name: string })[]>;
}

/** Fails what nothing will ever finish (lost agents, lost dispatches, orphaned runs). Runs on full sweeps. */
export interface Reaper {
  /** Returns the ids of runs it changed, so they are planned in the same tick. */
  reap(now: Date): Promise<number[]>;
}

export interface SchedulerLoopOptions {
  store: SchedulerStore;
  dispatcher: TaskDispatcher;
  logger: Logger;
  /** Full sweep period (ms). Event-driven wake-ups make it a backstop, not the latency. */
  sweepIntervalMs: number;
  /** A tick stops planning further runs past this budget; the rest go to the next tick. */
  tickTimeoutMs?: number;
  parallelism: number;
  /** Name of the standard executor, recorded on queued task instances. */
  executorName?: string;
  /** Time and timers (default: the system's). Tests pass a fake clock and move time by hand. */
  clock?: Clock;
  /** Shorthand for a clock that reads this time but keeps real timers (tests that call tick() by hand). */
  now?: () => Date;
  runCreator?: DueRunCreator;
  reaper?: Reaper;
  inline?: InlineStarter;
  onDispatchFailure?: DispatchFailureHandler;
  /** Holds back launches that are backing off after a failed dispatch (the dispatch retry policy). */
  dispatchGate?: DispatchGate;
  /** Agent-run tasks a chain's hand-off starts with its upstream's end (DispatchStepOptions.startOnHandOff). */
  startOnHandOff?: DispatchStepOptions["startOnHandOff"];
  /** Pro's split-brain guard, asked before every tick: false = this replica no longer leads, skip the tick. */
  leaderGuard?: () => Promise<boolean>;
  /** Team quotas, read on every sweep and after teamsChanged(); absent: no team has quotas. */
  teams?: TeamQuotaSource;
  /** Checks sensors in the control plane while they wait deferred; started and stopped with the loop. */
  sensors?: SensorPoller;
  /** The most instances one mapped task may expand to (--max-map-length; default 1024). */
  maxMapLength?: number;
  /** After each completed tick (metrics: tick duration and decisions). */
  onTick?: (report: TickReport) => void;
}

/** A tick in flight gave up because the loop was stopped (a leader stepping down must not write on). */
class TickCancelledError extends Error {}
/** Pro's split-brain check answered that this replica no longer leads: the tick writes nothing. */
class NotLeadingError extends Error {}

export interface TickReport {
  runs: number;
  transitions: number;
  dispatched: number;
  durationMs: number;
}

export class SchedulerLoop {
  private readonly clock: Clock;
  private readonly timer: WakeTimer;
  private readonly runs: RunSelection;
  private readonly dispatch: DispatchStep;
  private readonly specs: SpecCache;
  /** Large active runs held between ticks: a tick reads only their changes (live-snapshots.ts). */
  private readonly snapshots: LiveSnapshots;
  private readonly creation: RunCreation;
  /** What the next tick must do: plan these runs, and sweep when asked to. */
  private readonly dirty = new Set<number>();
  private sweepDue = true;
  private ticking: Promise<void> | null = null;
  /** Asked for while a tick was in flight: tick once more. */
  private again = false;
  private stopped = true;
  /** Set by stop(), cleared by start(): a tick in flight gives up at its next checkpoint. */
  private cancelled = false;
  /** A run ended since the last tick: creating due runs may now fit under max_active_runs. */
  private runEnded = false;
  private lastTickAt: Date | null = null;
  private leadingSince: Date | null = null;
  /** The teams' quotas must be read again before the next dispatch (a quota changed, or never read). */
  private teamsStale = true;

  constructor(private readonly opts: SchedulerLoopOptions) {
    this.clock = opts.clock ?? (opts.now ? { ...systemClock, now: opts.now } : systemClock);
    this.timer = new WakeTimer(this.clock, opts.sweepIntervalMs, (r) => this.request(r));
    this.runs = new RunSelection(opts.store);
    this.specs = new SpecCache(opts.store);
    this.snapshots = new LiveSnapshots(opts.store);
    this.creation = new RunCreation({
      creator: opts.runCreator,
      clock: this.clock,
      logger: opts.logger,
      armAt: (at) => this.timer.armCreate(at),
    });
    this.dispatch = new DispatchStep({
      store: opts.store,
      dispatcher: opts.dispatcher,
      logger: opts.logger,
      parallelism: opts.parallelism,
      executorName: opts.executorName,
      inline: opts.inline,
      onDispatchFailure: opts.onDispatchFailure,
      dispatchGate: opts.dispatchGate,
      startOnHandOff: opts.startOnHandOff,
      wake: (id) => this.wake(id),
      wakeAt: (id, at) => this.timer.armRun(id, at.getTime()),
      checkpoint: () => this.throwIfCancelled(),
      sensors: opts.sensors,
      ownWrite: (runId, t, now) => this.snapshots.ownWrite(runId, t, now),
    });
  }

  /** Starts ticking (this instance leads the scheduler). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.cancelled = false;
    this.lastTickAt = null;
    this.leadingSince = this.clock.now();
    this.runs.reset(); // a new term starts with a full sweep
    this.dispatch.reset();
    this.opts.dispatchGate?.reset?.();
    this.snapshots.reset();
    this.timer.start();
    this.opts.sensors?.start();
    this.request(SWEEP);
  }

  /** Stops ticking; resolves when the tick in flight (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelled = true;
    this.leadingSince = null;
    this.timer.stop();
    await Promise.all([this.ticking, this.creation.idle(), this.opts.sensors?.stop()]);
  }

  /**
   * A team's quotas changed (the teams API): read them again and let waiting tasks compete under them at
   * once, instead of at the next sweep.
   */
  teamsChanged(): void {
    this.teamsStale = true;
    this.request({ kind: "runs", ids: [] });
  }

  /** Asks for a tick soon: for one run when given, else a sweep. Bursts coalesce into one tick. */
  wake(dagRunId?: number): void {
    this.request(dagRunId === undefined ? SWEEP : { kind: "runs", ids: [dagRunId] });
  }

  /** How long without a tick a leading loop stays healthy: three sweeps, at least 10 s. */
  get healthStaleMs(): number {
    return Math.max(3 * this.opts.sweepIntervalMs, 10_000);
  }

  /**
   * Healthy while ticks keep coming within a few sweep periods. An instance that does not lead (stopped,
   * or a follower) is idle by design and healthy.
   */
  health(): { status: "healthy" | "unhealthy"; latest_scheduler_heartbeat: string | null } {
    const heartbeat = this.lastTickAt?.toISOString() ?? null;
    if (!this.leadingSince) return { status: "healthy", latest_scheduler_heartbeat: heartbeat };
    const since = (this.lastTickAt ?? this.leadingSince).getTime();
    const healthy = this.clock.now().getTime() - since < this.healthStaleMs;
    return { status: healthy ? "healthy" : "unhealthy", latest_scheduler_heartbeat: heartbeat };
  }

  /** Waiting tasks started in a freed inline slot without a tick (refill.ts), since this loop was built. */
  refilled = 0;

  /**
   * The inline runner's slot hand-over (InlineRunnerOptions.slots): a slot freed by a try that ended goes to the
   * next waiting inline task at once when refill.ts's rules allow it; a stopped loop lets it go.
   */
  readonly inlineSlots = {
    ending: (ti: TaskInstanceRecord, spec: DagSpec): void => this.dispatch.ending(ti, spec),
    /**
     * The task to start with this try's end, in its slot (DispatchStep successor: a waiting task, or on success a
     * chain's next task), unless the loop is stopped.
     */
    successor: (ti: TaskInstanceRecord, succeeded = false): SlotSuccessor | undefined => {
      if (this.stopped) return undefined;
      return this.dispatch.successor(ti, { has: (id: number) => this.runs.isHeld(id) }, succeeded && !this.runs.waitsOnPast);
    },
    /**
     * `succeeded`: the try ended in success. Answers true when its run needs no tick for this end (DispatchStep
     * handOver: the slot went to a task of the same run that keeps it from moving); the loop then wakes the run
     * itself should that start not apply. False: the caller wakes the run.
     */
    freed: (ti: TaskInstanceRecord, ended: boolean, succeeded = false, successorStarted = false): boolean => {
      const held = { has: (id: number) => this.runs.isHeld(id) };
      const pastOk = succeeded && !this.runs.waitsOnPast;
      const { refilled, covered } = this.dispatch.handOver(ti, ended, held, !this.stopped, pastOk, successorStarted);
      void refilled.then((s) => s && this.refilled++);
      if (!covered) return false;
      this.wakesSpared++;
      void covered.then((ok) => ok || this.wake(ti.dag_run_id));
      return true;
    },
  };

  /** Inline tries' ends that needed no tick of their run (DispatchStep handOver), since this loop was built. */
  wakesSpared = 0;

  /**
   * An agent's report of success for try `t` is about to be written: a chain's next task run by an agent, to
   * queue in the same write and launch once it applied (DispatchStep chainHandOff), unless the loop is stopped.
   * The caller must settle it after the write; when it answers false, the caller wakes the run. `now`: the
   * end's time, which a task it starts (startOnHandOff) starts at.
   */
  agentHandOff(t: Pick<TaskInstanceRecord, "id" | "try_number">, now = this.clock.now()): AgentHandOff | undefined {
    if (this.stopped) return undefined;
    const held = { has: (id: number) => this.runs.isHeld(id) };
    const handOff = this.dispatch.chainHandOff(t, held, !this.runs.waitsOnPast, now);
    if (!handOff) return undefined;
    return {
      next: handOff.next,
      task: handOff.task,
      settle: async (applied) => {
        const handed = await handOff.settle(applied);
        if (handed) this.handOffs++;
        return handed;
      },
    };
  }

  /** Chain tasks queued with their upstream's report of success (agentHandOff), since this loop was built. */
  handOffs = 0;

  /** Records a launch that failed after dispatch() returned (the buffered dispatcher's failure sink). */
  dispatchFailed(ti: TaskInstanceRecord, error: Error): Promise<void> {
    return this.dispatch.failed(ti, error, this.clock.now());
  }

  /** Resolves once no tick is in flight or asked for (tests wait for the loop to settle this way). */
  async idle(): Promise<void> {
    while (this.ticking || this.creation.busy) await Promise.all([this.ticking, this.creation.idle()]);
  }

  private request(r: WakeRequest): void {
    if (r.kind === "create") return this.createOffTick();
    if (r.kind === "sweep") this.sweepDue = true;
    else for (const id of r.ids) this.dirty.add(id);
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.runTicks();
  }

  /**
   * A cron slot is due: its runs are created now, beside any tick in flight (which may be planning hundreds
   * of runs), and planned by the next tick. Pro asks the split-brain guard first, as a tick does.
   */
  private createOffTick(): void {
    if (this.stopped) return;
    const guard = this.opts.leaderGuard;
    void (async () => {
      if (guard && !(await guard())) return;
      const created = await this.creation.create();
      if (created.length) this.request({ kind: "runs", ids: created });
    })().catch((e) => this.opts.logger.error("creating scheduled runs failed; the next sweep retries", { error: toError(e) }));
  }

  private async runTicks(): Promise<void> {
    // setImmediate lets a burst of wake() calls in the same turn land in one tick.
    await new Promise((r) => setImmediate(r));
    try {
      do {
        this.again = false;
        try {
          // Not `onTick?.(await this.tick())`: an absent onTick would skip evaluating the tick itself.
          const report = await this.tick(this.opts.leaderGuard?.());
          this.opts.onTick?.(report);
        } catch (e) {
          if (e instanceof NotLeadingError) break;
          if (e instanceof TickCancelledError)
            this.opts.logger.warn("tick cancelled: the scheduler is stepping down or stopping (expected)");
          else this.opts.logger.error("scheduler tick failed; the next tick will retry", { error: toError(e) });
        }
      } while (this.again && !this.stopped);
    } finally {
      this.ticking = null;
    }
  }

  /**
   * One scheduling iteration. Public for tests and the benchmark. `leading`: Pro's split-brain check, sent
   * beside the tick's reads instead of before them (one round trip fewer per tick); awaited before the
   * first write, a false answer ends the tick with NotLeadingError.
   */
  async tick(leading?: Promise<boolean>): Promise<TickReport> {
    leading?.catch(() => {}); // awaited below unless a read fails first
    const mayWrite = async () => {
      if (leading && !(await leading)) throw new NotLeadingError("this replica no longer leads the scheduler");
    };
    const started = performance.now();
    const now = this.clock.now();
    const store = this.opts.store;
    const sweep = this.sweepDue;
    this.sweepDue = false;
    // Take the wake-ups before the first await: one that arrives while this tick reads is kept for the next
    // tick (request() sets `again`), instead of being cleared with the ones this tick handles.
    const dirty = new Set(this.dirty);
    this.dirty.clear();
    if (sweep || this.runEnded) await mayWrite(); // creating and reaping write
    for (const id of await this.createAndReap(now, sweep)) dirty.add(id);
    const ids = sweep ? await this.runs.forSweep(dirty, this.timer.dueRuns(now.getTime())) : this.runs.forEvents(dirty);
    // Paused DAGs, max_active_runs and backfill limits decide which runs are planned at all (run-limits.ts).
    // Runs with candidates waiting for capacity are gated too (a pause must stop them), but not reloaded; they
    // are running, so their DAGs' gates decide (heldRunning): with 10,000 runs waiting for a pool, reading each
    // run's gate was half of every tick on Postgres (55 of 105 ms, scripts/bench tick).
    const toLoad = new Set(ids);
    const gateIds = [...toLoad];
    const waiting = this.dispatch.waitingRuns();
    const gateDags = waiting.dags;
    // A tick woken by events for a few runs reads them, their gates and the dispatch capacity in one store call
    // (one statement on Postgres, on every inline hop's path); a run the gates hold is then just not planned.
    // Held large runs are refreshed by their changes beside it. With thousands of runs to gate the separate
    // reads are cheaper: the combined statement's JSON and its generic plan doubled a woken tick's latency with
    // 9,872 runs gated (scripts/bench tick, Postgres). A sweep gates first: it may hold many queued runs not
    // worth reading.
    const combined = !sweep && gateIds.length + gateDags.length <= ONE_READ_MAX_RUNS;
    const reads = combined ? store.loadTickReads(ids.length ? this.snapshots.unheld(ids, now.getTime()) : [], gateIds, gateDags) : null;
    reads?.catch(() => {}); // awaited below, and by the dispatch step
    if (!sweep) this.dispatch.prefetchCapacity(now, reads ?? undefined);
    const whole = reads ? () => reads.then((r) => r.snapshots) : undefined;
    const early = !sweep && ids.length ? this.snapshots.load(ids, false, now.getTime(), whole) : null;
    early?.catch(() => {}); // awaited below unless the gates fail first
    // A full sweep reads its first runs beside the gates instead of after them (one round trip less on Postgres).
    const first = sweep && this.runs.fullSweep ? readAhead(store, ids) : undefined;
    const gates = reads ? (await reads).gates : gateIds.length || gateDags.length ? await store.loadRunGates(gateIds, gateDags) : null;
    const gate = gates ? selectRunsToPlan(gates, now) : { plan: [], held: [], wakeUps: [] };
    for (const w of gate.wakeUps) this.timer.armRun(w.runId, w.at.getTime());
    const held = gates ? [...gate.held, ...heldRunning(waiting.runs, gates.dags, toLoad)] : [];
    this.runs.gated([...gateIds, ...idsBesides(waiting.runs, toLoad)], held);
    const planIds = gate.plan.filter((id) => toLoad.has(id));
    const planned = new Set(planIds);
    // A sweep reads its runs in full (the backstop); a tick woken by events reads only what changed in large runs.
    const snapshots = early
      ? (await early).filter((s) => planned.has(s.run.id))
      : planIds.length
        ? await this.loadSnapshots(planIds, sweep, now.getTime(), first)
        : [];
    const deadline = started + (this.opts.tickTimeoutMs ?? 5_000);
    if (sweep) await yieldToIo();

    const specs = await this.specs.forRuns(snapshots);
    const pastBlocks = await loadPastBlocks(store, snapshots, (v) => this.specs.get(v));
    const changedTasks = this.snapshots.changedTasks(snapshots.map((s) => s.run.id));
    const plan = planTick({ snapshots, specs, pastBlocks, changedTasks, outOfTime: () => performance.now() > deadline }, now);
    for (const { run, error } of plan.failed)
      this.opts.logger.error("planning a run failed; other runs continue", { dag_id: run.dag_id, run_id: run.run_id, error });
    for (const w of plan.wakeUps) this.timer.armRun(w.runId, w.at.getTime());
    if (plan.deferred.length) {
      // Over budget: the rest go to the next tick rather than stall wake-ups behind a huge tick.
      for (const id of plan.deferred) this.dirty.add(id);
      this.again = true;
      this.opts.logger.warn("tick budget spent; remaining runs move to the next tick", { deferred: plan.deferred.length });
    }

    if (sweep) await yieldToIo();
    this.throwIfCancelled();
    if (sweep || this.teamsStale) await this.loadTeamQuotas();
    await mayWrite();
    const { newState, applied, runsStarted } = await this.apply(plan, now);
    if (sweep) await yieldToIo();
    // Mapped tasks whose upstreams are done: their new instances (or skip/failure) are planned at once.
    for (const id of await expandMappedTasks(store, plan.expansions, this.opts.maxMapLength ?? DEFAULT_MAX_MAP_LENGTH, now))
      this.dirty.add(id), (this.again = true);
    this.runs.planned(ids, pastBlocks.keys());
    const dispatched = await this.dispatch.run(plan.planned, newState, { has: (id) => this.runs.isHeld(id) }, now, plan.notes);
    // Waiting reasons are written once, when they change, in one batch.
    if (plan.notes.length) this.snapshots.notesWritten(plan.notes, await store.setTaskInstanceNotes(plan.notes));
    await runsStarted;
    // Only now, with every write of their plans done: a tick that failed before plans these runs' tasks again,
    // and a sweep that failed is swept again from the same view.
    this.snapshots.planned(plan.planned.map((p) => p.snap.run.id));
    if (sweep) this.runs.swept();
    this.lastTickAt = this.clock.now();
    return { runs: snapshots.length, transitions: applied, dispatched, durationMs: performance.now() - started };
  }

  /**
   * The runs' snapshots. A sweep reads them SWEEP_READ_CHUNK runs at a time with a turn of the event loop in
   * between: on SQLite a read of 10,000 runs blocks the process for hundreds of ms, and /health, the API and
   * agents' heartbeats are answered between chunks instead of after the whole read (a restart with many
   * active runs answers /health before its first sweep is through). Only a full sweep reads held runs in full
   * (run-selection.ts fullSweep); others refresh them by their changes.
   */
  private async loadSnapshots(
    ids: readonly number[],
    sweep: boolean,
    nowMs: number,
    first?: (ids: number[]) => Promise<RunSnapshot[]>,
  ): Promise<RunSnapshot[]> {
    const full = sweep && this.runs.fullSweep;
    if (!sweep || ids.length <= SWEEP_READ_CHUNK) return this.snapshots.load(ids, full, nowMs, first);
    const read = (from: number) => {
      const chunk = this.snapshots.load(ids.slice(from, from + SWEEP_READ_CHUNK), full, nowMs, from ? undefined : first);
      chunk.catch(() => {}); // awaited below; it may fail while the previous chunk is awaited
      return chunk;
    };
    // One chunk read ahead: on Postgres the server reads the next chunk while this process decodes the current
    // one (0.65–0.8× the time of reading them one after another, measured); on SQLite a read is synchronous, so
    // the turn of the event loop still falls between every two chunks.
    const out: RunSnapshot[] = [];
    let next = read(0);
    for (let i = 0; i < ids.length; i += SWEEP_READ_CHUNK) {
      const current = next;
      if (i + SWEEP_READ_CHUNK < ids.length) {
        await yieldToIo();
        next = read(i + SWEEP_READ_CHUNK);
      }
      out.push(...(await current));
    }
    return out.sort((a, b) => a.run.id - b.run.id);
  }

  /** On a sweep, or after a run ended (a max_active_runs slot freed): create due runs; on a sweep, reap. Returns the runs touched. */
  private async createAndReap(now: Date, sweep: boolean): Promise<number[]> {
    const touched: number[] = [];
    const createDue = sweep || this.runEnded;
    this.runEnded = false;
    if (createDue) touched.push(...(await this.creation.create(now)));
    if (sweep && this.opts.reaper) {
      try {
        touched.push(...(await this.opts.reaper.reap(now)));
      } catch (e) {
        this.opts.logger.error("reaping failed; planning goes on", { error: toError(e) });
      }
    }
    return touched;
  }

  /**
   * Writes the plan's transitions in one batch and its run state changes; returns the new states. Runs that
   * start (a first sweep moves thousands from queued to running) are written beside the task writes (another
   * connection on Postgres: ~0.3 s of a 10,000-run first sweep no longer waits in line), and `runsStarted` is
   * awaited by the tick after its dispatch. Runs that end are written after their tasks' writes, as before: a
   * run never ends ahead of the writes that end its tasks.
   */
  private async apply(
    plan: TickPlan,
    now: Date,
  ): Promise<{ newState: Map<number, TaskState>; applied: number; runsStarted: Promise<void> }> {
    const { transitions, transitionRun, runChanges } = plan;
    const runsStarted = this.writeRunChanges(
      runChanges.filter((c) => !isTerminalDagRunState(c.to)),
      now,
    );
    runsStarted.catch(() => {}); // awaited by tick(); it may fail while the task writes are awaited
    // Transitions into scheduled are written by the dispatch step, with what becomes of each (start, queue, note).
    const applied = transitions.length ? await this.dispatch.applyPlan(plan, now) : [];
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
    await this.writeRunChanges(
      runChanges.filter((c) => isTerminalDagRunState(c.to)),
      now,
    );
    return { newState, applied: applied.filter(Boolean).length, runsStarted };
  }

  /** Run state changes in one batch (setDagRunStates); logs those that applied and lets go of runs that ended. */
  private async writeRunChanges(changes: readonly RunChange[], now: Date): Promise<void> {
    if (!changes.length) return;
    const changed = await this.opts.store.setDagRunStates(
      changes.map((c) => ({ id: c.run.id, from: c.from, to: c.to, note: c.note })),
      now,
    );
    changes.forEach((c, i) => {
      if (!changed[i]) return;
      this.opts.logger.info(`dag run ${c.to}`, { dag_id: c.run.dag_id, run_id: c.run.run_id, ...(c.note ? { note: c.note } : {}) });
      if (c.to === "success" || c.to === "failed") this.snapshots.forget(c.run.id), this.onRunEnded(c.run.team, c.run.dag_id);
    });
  }

  /** Reads the teams' quotas once (a sweep, or after teamsChanged), not per task; a failed read keeps the previous ones. */
  private async loadTeamQuotas(): Promise<void> {
    if (!this.opts.teams) return;
    this.teamsStale = false;
    try {
      const teams = await this.opts.teams.listTeams();
      this.dispatch.setTeamQuotas(new Map(teams.map((t) => [t.name, t])));
    } catch (e) {
      this.teamsStale = true;
      this.opts.logger.error("reading team quotas failed; the previous quotas apply until the next tick", { error: toError(e) });
    }
  }

  private throwIfCancelled(): void {
    if (this.cancelled) throw new TickCancelledError("scheduler tick cancelled");
  }

  /** A finished run frees a max_active_runs slot: plan the DAG's held runs and let due runs be created. */
  private onRunEnded(team: string, dagId: string): void {
    if (this.creation.wantsRunEnds) this.runEnded = true;
    this.again = true;
    for (const id of this.runs.heldRunsOf(team, dagId)) this.dirty.add(id);
  }
}

/** The most runs a woken tick gates with the one-statement read (loadTickReads); more read separately. */
const ONE_READ_MAX_RUNS = 64;

/** Runs per read of a sweep (loadSnapshots): ~1,000 runs × 10 task instances is tens of ms on SQLite. */
const SWEEP_READ_CHUNK = 1_000;

/**
 * Reads the first SWEEP_READ_CHUNK of a sweep's runs (lowest ids first, as the gates answer them) now, before
 * the gates say which to plan; returns the reader of the sweep's first chunk, which takes what it asks for
 * from that read and reads the rest. A plain store read (LiveSnapshots keeps nothing of it): a run the gates
 * hold is just not used.
 */
function readAhead(store: SchedulerStore, ids: readonly number[]): ((want: number[]) => Promise<RunSnapshot[]>) | undefined {
  const firstIds = [...ids].sort((a, b) => a - b).slice(0, SWEEP_READ_CHUNK);
  if (!firstIds.length) return undefined;
  const read = store.loadRunSnapshots(firstIds);
  read.catch(() => {}); // awaited by the sweep's first chunk; a failed gate read, or gates holding every run, leave it unused
  const have = new Set(firstIds);
  return async (want) => {
    const rest = want.filter((id) => !have.has(id));
    const wanted = new Set(want);
    const [early, late] = await Promise.all([read, rest.length ? store.loadRunSnapshots(rest) : []]);
    return [...early.filter((s) => wanted.has(s.run.id)), ...late];
  };
}

/**
 * A turn of the event loop: a sweep over thousands of runs has long synchronous phases on SQLite (reading,
 * planning, writing 100,000 task instances), and requests waiting on this process (health, the API, agents'
 * heartbeats) are answered in between instead of after the whole sweep.
 */
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));
