/**
 * The last step of a tick: pick the scheduled task instances that fit (fairly across teams: parallelism,
 * team quotas, max_active_tasks, pools), mark them queued and launch them; the rest wait in memory for the
 * next tick with a note saying why. Also where a failed launch is recorded (fail the try, or the retry
 * policy's handler).
 */
import type { DagSpec, TaskState, DagRunRecord, TaskInstanceRecord, TaskNoteUpdate, TaskTransition, WaitReason } from "../domain";
import { teamKey, toError, transitioned } from "../domain";
import type { Logger } from "../observability";
import type { Store, TickReads, TryNext } from "../store";
import type { TaskDispatcher } from "../dispatch";
import { AtCapacityError } from "../dispatch";
import { sameLimits, sameQuotas, sameUsage, selectDispatchable, taskKey, type CapacityLimits, type TeamQuotas } from "./capacity";
import { noteRenderer, poolLimits, poolsCountingDeferred, waitCleared, withWaitReason } from "./waiting";
import { WAITING_SCHEDULES_CHUNK, WaitingSchedules } from "./waiting-schedules";
import { WaitingCandidates, type WaitingRuns } from "./waiting-runs";
import {
  cannotTakeFreedSlot,
  chainSuccessor,
  freedTeamGoesFirst,
  mayRefill,
  refillableElsewhere,
  successNeedsNoPlan,
  withinLimits,
  withRefills,
  type FreedSlot,
  type Refill,
} from "./refill";
import type { PlannedRun, TickPlan } from "./tick-plan";

/** Runs tasks inside the control plane (inline http). It owns their state: no queued step. */
export interface InlineStarter {
  accepts(task: DagSpec["tasks"][number]): boolean;
  /**
   * "busy" leaves the task scheduled for the next tick (concurrency limit reached). `scheduling`: the
   * planner's transition into scheduled, not yet written; a start writes it in the same store call as its
   * own (the batch's later transitions see the earlier ones), "busy" writes nothing. "gone": nothing runs and the
   * slot is still free (the start did not apply, the task instance having moved on since it was read; or the
   * runner refused the task before it started, failing it with the reason).
   */
  start(ti: TaskInstanceRecord, run: DagRunRecord, spec: DagSpec, scheduling?: TaskTransition): Promise<"started" | "busy" | "gone">;
  /** Whether this try of the task instance is running here now (its start applied and its end not yet reached). */
  isRunning?(ti: Pick<TaskInstanceRecord, "id" | "try_number">): boolean;
}

/** What to do when launching a queued task instance failed. Default: fail the try with the reason. */
export type DispatchFailureHandler = (ti: TaskInstanceRecord, error: Error, now: Date) => Promise<void>;

/** Which scheduled task instances must not be launched yet: by id, the try it applies to and until when. */
export interface DispatchGate {
  heldUntil(now: Date): Promise<Map<number, { try_number: number; until: Date }>>;
  /** Forget what it knows: a new term of leadership (another replica may have held launches meanwhile). */
  reset?(): void;
}

export type DispatchStore = Pick<Store, "applyTransitions" | "countActiveTaskInstances" | "listPoolUsage" | "countActiveByTask">;

export interface DispatchStepOptions {
  store: DispatchStore;
  dispatcher: TaskDispatcher;
  logger: Logger;
  parallelism: number;
  executorName?: string;
  inline?: InlineStarter;
  onDispatchFailure?: DispatchFailureHandler;
  dispatchGate?: DispatchGate;
  /** Plans a run again soon (after a launch failed, so its retries and the run go on). */
  wake: (runId: number) => void;
  /** Plans a run again at `at` (a launch backing off after a dispatch failure). */
  wakeAt: (runId: number, at: Date) => void;
  /** Throws when the tick must not write on (the loop is stopping). */
  checkpoint: () => void;
  /**
   * Takes the sensors the control plane checks (sensor-poller.ts): they wait deferred, outside all capacity, but for
   * the slots of a pool whose include_deferred counts them (they take one first, as candidates).
   */
  sensors?: SensorHandOver;
  /**
   * A transition of a task instance of run `runId` this step wrote and saw apply, for the loop's held copy of the
   * run (LiveSnapshots.ownWrite): the record as now stored, or null when the loop holds no such record.
   */
  ownWrite?: (runId: number, t: TaskTransition, now: Date) => TaskInstanceRecord | null;
  /**
   * Agent-run tasks a chain's hand-off starts with its upstream's end (running, not queued): the server
   * registers each for a warm agent that takes it at once (executors/subprocess.ts), on host `hostname`, when
   * `accepts` says so at the hand-off (the server's: while an agent is idle); otherwise queued, as any hand-off. A
   * launch of one that fails puts it back to queued first (unStart), then is handled as any failed launch.
   */
  startOnHandOff?: { accepts(task: DagSpec["tasks"][number]): boolean; hostname: string };
}

/** Where scheduled sensors go instead of a launch. */
export interface SensorHandOver {
  accepts(task: DagSpec["tasks"][number]): boolean;
  defer(candidates: readonly { ti: TaskInstanceRecord; run: DagRunRecord; spec: DagSpec }[], now: Date): Promise<void>;
  /** A planned run has a user check up_for_reschedule (its agent just reported): arm for its next check. */
  rescheduled(): void;
}

/**
 * The longest refill queue a tick builds: the slots that may free before the next tick. Each tick that orders
 * one walks every waiting candidate of a large run, so a longer queue means fewer of those ticks: at 256, a
 * 10,000-task fan-out took 5–7 ticks per 1,000 tasks; at 4,096, 1–2 (the fan-out 1.13–1.29× faster, measured),
 * each one a pause of its slots when the queue ran out (30–45 ms on SQLite, where the tick holds the thread); at
 * 16,384 such a fan-out is ordered once. The queue's order stays right however long it is: a tick with new
 * candidates drops it, and a head that breaks a refill rule (refill.ts) ends it. Ordering 10,000 candidates
 * costs a tick ~7 ms (a heap).
 */
const REFILL_QUEUE_MAX = 16_384;
/**
 * The refill queue a tick orders after one that served fewer refills than parallelism before its head refused an
 * end's slot (another team's, DAG's or pool's task: teams' fan-outs take turns in fair order), in rounds of
 * parallelism: such queues are refused at nearly every end, each refusal waking a tick that orders a new one, and
 * ordering 16,384 of 10,000 waiting each time cost a tick ~3.5 ms more than ordering none. A short queue that serves a
 * round or more orders a long one again.
 */
const SHORT_QUEUE_ROUNDS = 4;
/** Whether every candidate is of the first one's team. */
const oneTeam = (cs: readonly Candidate[]): boolean => cs.every((c) => c.ti.team === cs[0]!.ti.team);

/** Heads of the refill queue one end may pass over (cannotTakeFreedSlot) before it leaves its slot to a tick. */
const PASS_OVER_MAX = 64;
/**
 * Refills left in the queue below which an end that needs no tick of its run wakes it anyway (handOver): the
 * tick orders a new queue (the queue runs low) before this one is used up, so freed slots do not wait for it. Not
 * when the queue holds every task the tick that ordered it left waiting (refillQueueComplete): a tick would order
 * the same tasks, and a fan-out's last round of ends woke one for each (traced: 2–5% of a 1,000-task fan-out's
 * ends, ~5 ticks a run on Postgres).
 */
const REFILL_LOW_WATER = 32;
/** Queued tasks remembered for a chain's hand-off at least (chainHandOff); more with a larger parallelism. */
const AGENT_QUEUED_MIN = 1024;

type Candidate = {
  ti: TaskInstanceRecord;
  run: DagRunRecord;
  spec: DagSpec;
  runQueuedAt: Date;
  maxActiveTasks: number;
  inline: boolean;
  maxActiveTisPerDag?: number;
  /** The last launch() that left it waiting (waitingCandidates keeps only the latest one's). */
  round?: number;
  /** Why that launch left it waiting: a refill passes over a head whose own limit the freed slot does not free. */
  reason?: WaitReason;
  /** Its run's task instances as the tick that built it read them (a chain's hand-over looks its next task up there). */
  tis?: readonly TaskInstanceRecord[];
  /** A sensor of a pool with include_deferred: once selected it is deferred (holding its slot), not launched. */
  sensor?: true;
};

/** A chain's next agent-run task to queue with its upstream's success (chainHandOff), and what follows the write. */
export interface AgentHandOff {
  next: TryNext;
  /** The task `next` moves, with its run and DAG version (its agent's spec may be read ahead from them). */
  task: { ti: TaskInstanceRecord; run: DagRunRecord; spec: DagSpec };
  /** After the write, told whether `next` applied: launches it then, and answers whether it was handed on. */
  settle(applied: boolean): Promise<boolean>;
}

/** A waiting or not yet scheduled task chosen to take a slot whose end is being written (successor()). */
export interface SlotSuccessor {
  ti: TaskInstanceRecord;
  run: DagRunRecord;
  spec: DagSpec;
  /** The planner's move into scheduled, written before the start: the task was `none` (a chain's next task). */
  scheduling?: TaskTransition;
  /** Its start applies only when the end applies as success (its trigger rule fires on that success). */
  afterSuccess?: boolean;
}

/** Each spec's tasks by id, built once per spec: a tick looks a task up for every candidate. */
const tasksById = new WeakMap<DagSpec, Map<string, DagSpec["tasks"][number]>>();
function taskOf(spec: DagSpec, taskId: string): DagSpec["tasks"][number] | undefined {
  let byId = tasksById.get(spec);
  if (!byId) tasksById.set(spec, (byId = new Map(spec.tasks.map((t) => [t.task_id, t]))));
  return byId.get(taskId);
}

/** The store's half of the capacity reads (countActiveTaskInstances, listPoolUsage). */
type CapacityCounts = Pick<TickReads, "active" | "pools">;

export class DispatchStep {
  /** Scheduled task instances that did not fit last tick (pool, parallelism, max_active_tasks, a team quota), by id. */
  private readonly waitingCandidates = new WaitingCandidates<Candidate>();
  /** Counts launch() calls, to tell this call's waiting candidates from those it must drop. */
  private round = 0;
  /** How many candidates the previous launch() left all waiting, and under which limits; null if it queued any. */
  private idle: { candidates: number; limits: CapacityLimits } | null = null;
  /** Each team's quotas, by team name (the loop reads the teams table once per sweep). */
  private teamQuotas: ReadonlyMap<string, TeamQuotas> = new Map();
  /** Capacity reads started early by prefetchCapacity, for the next run(). */
  private prefetched: { at: Date; reads: ReturnType<DispatchStep["readCapacity"]> } | null = null;
  /** This tick's transitions into scheduled, left unwritten by applyPlan for run(), by task instance id. */
  private unwrittenSchedules = new Map<number, TaskTransition>();
  /** The latest tick's refill queue (refill.ts) and the index of its head: who takes a freed inline slot next. */
  private refillQueue: Candidate[] = [];
  private refillHead = 0;
  /** Whether the queue held every candidate its tick left waiting: no later tick can add to it (REFILL_LOW_WATER). */
  private refillQueueComplete = false;
  /** Refills the queue has handed out, and how long the next one is ordered (SHORT_QUEUE_ROUNDS). */
  private refillsFromQueue = 0;
  private refillQueueLength = REFILL_QUEUE_MAX;
  /**
   * What each team held when the queue was ordered, when it holds tasks of more than one team: the teams' turns in
   * it (capacity.ts fairOrder). One team's tasks come in their own order whatever it holds.
   */
  private refillUsage: CapacityLimits["teamUsage"] | "one team" = "one team";
  /** The teams with tasks in such a queue. */
  private refillTeams = new Set<string>();
  /**
   * A slot was refused since the latest tick: free, for the tick on its way, which gives it out in fair order. Until
   * then no end passes over another team's head: whose turn it is has moved since the queue was ordered.
   */
  private refusedSinceTick = false;
  /**
   * The latest tick, woken with a refused slot free (refusedSinceTick), selected nothing while refills and ends were
   * in flight and the store's counts showed room: its count of them (withRefills) may be what kept the slot from it,
   * and the ends that swap within the kept queue wake no other tick. The next end to settle does (handOver), once.
   * Only then: after every nothing-selected tick it cost a 10,000-task pooled fan-out on Postgres 4-12 ticks per
   * 1,000 tasks (against 1) and a fifth of its rate.
   */
  private recheck = false;
  /** Inline tasks this step started and runs now (inlineRunning), by team: what each team holds of them, exactly. */
  private readonly inlineByTeam = new Map<string, number>();
  /**
   * Refills started that a capacity read may not count yet; `written` once their start write returned. Kept
   * across a new term (reset): they are in flight, and a count too high only leaves a slot to a later tick.
   */
  private readonly refills = new Set<{ c: Candidate; written: boolean }>();
  /**
   * Inline tasks this step started (a tick, a refill, a hand-over), by task instance id, until their slot is
   * handed over: a chain's next task is looked up in the run they were started from.
   */
  private readonly inlineRunning = new Map<number, Candidate>();
  /**
   * Tasks this step queued for the executor (a tick, a hand-off), by task instance id, until their agent reports
   * the end: a chain's next task is looked up in the run they were queued from (chainHandOff).
   */
  private readonly agentQueued = new Map<number, Candidate>();
  /** The latest tick's capacity limits at the store's counts: a chain's hand-over keeps within them (withinLimits). */
  private latestLimits: CapacityLimits | null = null;
  /** The successors chosen for slots whose end is being written (successor()), by the ending try's id. */
  private readonly handing = new Map<number, { c: Candidate; written: boolean; chained: boolean }>();
  /** Inline tries whose end is being written: a read may see their slot free before refill() hands it on. */
  private readonly endings = new Map<number, Refill>();
  /** The schedules of the candidates the latest tick left waiting, until written (waiting-schedules.ts). */
  private readonly waitingSchedules = new WaitingSchedules();

  constructor(private readonly opts: DispatchStepOptions) {}

  /** Forgets the candidates waiting for capacity (a new term of leadership reloads everything). */
  reset(): void {
    this.waitingCandidates.clear();
    this.idle = null;
    this.prefetched = null;
    this.unwrittenSchedules.clear();
    this.waitingSchedules.abandon();
    this.agentQueued.clear();
    this.dropRefillQueue();
  }

  /**
   * Writes the plan's transitions but those into scheduled of tasks run() launches (all but sensors), which
   * it writes together with what becomes of them: an inline task's start (its downstream then starts one
   * store write after its upstream ended instead of two), a launch's move to queued, or the note of a task
   * left waiting for capacity (each row written once, not twice: a first sweep leaves thousands waiting).
   * Answers per transition whether it applied; an unwritten one counts as applied (scheduled): run() writes
   * it before returning, started or not.
   */
  async applyPlan(plan: Pick<TickPlan, "transitions" | "planned">, now: Date): Promise<boolean[]> {
    const { transitions, planned } = plan;
    const unwritten = new Map<number, TaskTransition>();
    this.unwrittenSchedules = unwritten;
    const sensors = this.opts.sensors;
    const toScheduled = new Map<number, TaskTransition>();
    for (const t of transitions) if (t.to === "scheduled") toScheduled.set(t.id, t);
    if (toScheduled.size)
      for (const { snap, spec } of planned)
        for (const ti of snap.tis) {
          const t = toScheduled.get(ti.id);
          const task = t && taskOf(spec, ti.task_id);
          if (task && !sensors?.accepts(task)) unwritten.set(ti.id, t);
        }
    const written = unwritten.size ? transitions.filter((t) => unwritten.get(t.id) !== t) : transitions;
    const applied = written.length ? await this.opts.store.applyTransitions(written, now) : [];
    let w = 0;
    return transitions.map((t) => unwritten.get(t.id) === t || applied[w++] === true);
  }

  /**
   * The quotas the next ticks check (teams absent from the map have none). Quotas equal to the current ones keep
   * the current object: every sweep reads them again, and a new object would look like a change (sameLimits).
   */
  setTeamQuotas(quotas: ReadonlyMap<string, TeamQuotas>): void {
    if (!sameQuotas(this.teamQuotas, quotas)) this.teamQuotas = quotas;
  }

  /**
   * Starts the capacity reads of the next run() now, so they travel alongside the tick's own reads instead
   * of after its writes: one round trip fewer on every hop. Sound because they count queued and running
   * task instances, which only this loop's dispatch adds to (ticks never overlap), and held launches.
   */
  prefetchCapacity(now: Date, counts?: Promise<CapacityCounts>): void {
    const reads = this.readCapacity(now, counts);
    reads.catch(() => {}); // a failed read surfaces in run(); unused, it must not go unhandled
    this.prefetched = { at: now, reads };
  }

  /**
   * The held launches and the store's counts (`counts`: already being read, by the loop's loadTickReads),
   * at once: one round trip of waiting instead of three on Postgres.
   */
  private async readCapacity(now: Date, counts?: Promise<CapacityCounts>) {
    const store = this.opts.store;
    // Refills whose start was written before this read began: the read counts them (refill.ts).
    const seen = new Set<{ c: Candidate; written: boolean }>();
    for (const r of this.refills) if (r.written) seen.add(r);
    const [held, active, pools] = await Promise.all([
      this.opts.dispatchGate ? this.opts.dispatchGate.heldUntil(now) : null,
      counts ? counts.then((c) => c.active) : store.countActiveTaskInstances(),
      counts ? counts.then((c) => c.pools) : store.listPoolUsage(),
    ]);
    return [held, active, pools, seen] as const;
  }

  /** The capacity limits at the store's counts (refills not counted). */
  private limitsOf(
    active: CapacityCounts["active"],
    poolUsage: CapacityCounts["pools"],
    runningByTask?: Map<string, number>,
  ): CapacityLimits {
    let running = 0;
    for (const n of active.byDag.values()) running += n;
    return {
      parallelism: this.opts.parallelism,
      running,
      runningByDag: active.byDag,
      ...poolLimits(poolUsage),
      teamQuotas: this.teamQuotas,
      teamUsage: active.byTeam,
      ...(runningByTask ? { runningByTask } : {}),
    };
  }

  /** Active counts of the candidates' tasks that set max_active_tis_per_dag; none read when no task sets it. */
  private async runningByTask(candidates: readonly Candidate[]): Promise<Map<string, number> | undefined> {
    const keys = new Map<string, TaskInstanceRecord>();
    for (const c of candidates) if (c.maxActiveTisPerDag !== undefined) keys.set(taskKey(c.ti), c.ti);
    if (!keys.size) return undefined;
    const counts = await this.opts.store.countActiveByTask([...keys.values()]);
    return new Map([...keys.keys()].map((k, i) => [k, counts[i] ?? 0]));
  }

  /** The runs of the candidates waiting for capacity and their DAGs: run limits (a pause) must still apply to them. */
  waitingRuns(): WaitingRuns {
    return this.waitingCandidates.runs();
  }

  /**
   * Launches what fits among the planned runs' scheduled task instances (`newState`: this tick's applied
   * transitions) and the candidates still waiting from earlier ticks; `held`: runs held by run limits.
   * Pushes the waiting notes that change onto `notes`. Returns how many were launched or started.
   */
  async run(
    planned: readonly PlannedRun[],
    newState: ReadonlyMap<number, TaskState>,
    held: { has(runId: number): boolean },
    now: Date,
    notes: TaskNoteUpdate[],
  ): Promise<number> {
    // Reads prefetched for this tick only (a tick that failed before its run() leaves its reads unused).
    const prefetched = this.prefetched?.at === now ? this.prefetched.reads : null;
    this.prefetched = null;
    const unwritten = this.unwrittenSchedules;
    this.unwrittenSchedules = new Map();
    // A launch that throws (a failed read, a cancelled tick) leaves them in their planned-from state: the
    // next tick plans them again.
    let launched: number;
    try {
      launched = await this.launch(planned, newState, held, now, notes, prefetched, unwritten);
      await this.writeWaiting(Number.POSITIVE_INFINITY, now);
    } catch (e) {
      this.abandonWaiting();
      throw e;
    }
    // What no inline start wrote (busy, backing off, failed) is scheduled now.
    if (unwritten.size) await this.writeSchedules([...unwritten.values()], now);
    return launched;
  }

  /** Writes transitions into scheduled left unwritten; a candidate whose write did not apply stops waiting. */
  private async writeSchedules(transitions: TaskTransition[], now: Date): Promise<void> {
    const applied = await this.opts.store.applyTransitions(transitions, now);
    for (const [i, t] of transitions.entries()) this.scheduleWritten(t, applied[i] === true, now);
  }

  /**
   * A waiting candidate's move into scheduled went out: one that did not apply stops waiting; one that did
   * takes the row as written, the same record the loop's held copy of its run now has (ownWrite), so the
   * next tick reuses the candidate instead of building it again from a record read back.
   */
  private scheduleWritten(t: TaskTransition, applied: boolean, now: Date): void {
    const c = this.waitingCandidates.get(t.id);
    if (!applied) this.waitingCandidates.delete(t.id);
    else if (c && c.ti.try_number === (t.try_number ?? c.ti.try_number))
      c.ti = this.opts.ownWrite?.(c.run.id, t, now) ?? transitioned(c.ti, t, now);
  }

  private async launch(
    planned: readonly PlannedRun[],
    newState: ReadonlyMap<number, TaskState>,
    held: { has(runId: number): boolean },
    now: Date,
    notes: TaskNoteUpdate[],
    prefetched: ReturnType<DispatchStep["readCapacity"]> | null,
    unwritten: Map<number, TaskTransition>,
  ): Promise<number> {
    const candidates: Candidate[] = [];
    const plannedRuns = new Set<number>();
    const inline = this.opts.inline;
    const sensors = this.opts.sensors;
    const toDefer: { ti: TaskInstanceRecord; run: DagRunRecord; spec: DagSpec; tis: readonly TaskInstanceRecord[] }[] = [];
    let rescheduled = false;
    /** Candidates built this call (not waiting from before): a refill queue of an earlier tick may not know them. */
    let fresh = 0;
    /** Candidates built this call, also those replacing a waiting one of the same try (a new record of it). */
    let built = 0;
    // Refills whose start no read of an earlier tick saw: not candidates, as this tick's read may still show them
    // scheduled (a second start of one does not apply, and its slot waited for nothing).
    const refilling = new Set<number>();
    for (const r of this.refills) refilling.add(r.c.ti.id);
    for (const { snap, spec } of planned) {
      plannedRuns.add(snap.run.id);
      for (const ti of snap.tis)
        if (ti.state === "up_for_reschedule") rescheduled = true;
        else if ((newState.get(ti.id) ?? ti.state) === "scheduled" && !refilling.has(ti.id)) {
          // The same record as last tick (a held run's unchanged task instance): its candidate, with the run's
          // fresh row. A 10,000-task fan-out otherwise built 10,000 candidates on every tick. Checked before the
          // sensor lookup: a candidate is never a sensor (those are deferred), and the lookup per waiting task
          // was 7% of the server's CPU in a 10,000-task fan-out.
          const prev = this.waitingCandidates.get(ti.id);
          if (prev && prev.ti === ti && prev.spec === spec) {
            prev.run = snap.run;
            prev.runQueuedAt = snap.run.queued_at;
            prev.tis = snap.tis;
            candidates.push(prev);
            continue;
          }
          const sensorTask = sensors && taskOf(spec, ti.task_id);
          if (sensorTask && sensors.accepts(sensorTask)) {
            toDefer.push({ ti, run: snap.run, spec, tis: snap.tis });
            continue;
          }
          const task = taskOf(spec, ti.task_id);
          // A new record of the same waiting try (its schedule or note written since) keeps its place in the
          // refill queue: such a write changes nothing the fair order reads (compareCandidates).
          if (
            !prev ||
            prev.ti.try_number !== ti.try_number ||
            prev.spec !== spec ||
            prev.runQueuedAt.getTime() !== snap.run.queued_at.getTime()
          )
            fresh++;
          built++;
          const c: Candidate = {
            ti,
            run: snap.run,
            spec,
            runQueuedAt: snap.run.queued_at,
            maxActiveTasks: spec.max_active_tasks,
            inline: inline && task ? inline.accepts(task) : false,
            tis: snap.tis,
          };
          if (task?.max_active_tis_per_dag !== undefined) c.maxActiveTisPerDag = task.max_active_tis_per_dag;
          candidates.push(c);
        }
    }
    // Candidates that waited for capacity last time compete again without their runs being reloaded: a
    // freshly planned run replaces its own, and a held run (paused DAG) withdraws them. A stale one (cleared,
    // marked) is harmless: queueing it is conditional on its state and try.
    // The map is not emptied and refilled (nor deleted from while iterated): at 10,000 waiting that was most
    // of a tick in JSC. Entries this call does not leave waiting are dropped at its end (keepWaiting).
    for (const c of this.waitingCandidates.values())
      if (!plannedRuns.has(c.run.id) && !held.has(c.run.id) && !refilling.has(c.ti.id)) candidates.push(c);
    const round = ++this.round;
    const refusedFree = this.refusedSinceTick;
    const idle = this.idle;
    this.idle = null;
    let reads = prefetched;
    if (toDefer.length) {
      // A sensor of a pool whose include_deferred counts deferred task instances holds its slot while it waits, so it
      // waits for one first, as Airflow's deferrable sensor runs (taking a slot) before it defers: it competes as a
      // candidate. The others wait deferred at once, holding nothing. The capacity read says which pools count.
      reads ??= this.readCapacity(now);
      const counting = poolsCountingDeferred((await reads)[2]);
      const deferNow = counting.size ? toDefer.filter((d) => !counting.has(teamKey(d.ti.team, d.ti.pool))) : toDefer;
      if (deferNow.length !== toDefer.length)
        for (const d of toDefer)
          if (counting.has(teamKey(d.ti.team, d.ti.pool))) {
            fresh++;
            built++;
            const c: Candidate = {
              ti: d.ti,
              run: d.run,
              spec: d.spec,
              runQueuedAt: d.run.queued_at,
              maxActiveTasks: d.spec.max_active_tasks,
              inline: false,
              tis: d.tis,
              sensor: true,
            };
            const perDag = taskOf(d.spec, d.ti.task_id)?.max_active_tis_per_dag;
            if (perDag !== undefined) c.maxActiveTisPerDag = perDag;
            candidates.push(c);
          }
      if (deferNow.length) {
        this.opts.checkpoint();
        await sensors?.defer(deferNow, now);
      }
    }
    if (rescheduled) sensors?.rescheduled();
    if (!candidates.length) {
      this.keepWaiting(round);
      // Nothing to launch, but a chain's hand-over keeps within the latest counts: those read with this tick.
      if (reads) {
        const [, active, poolUsage] = await reads;
        this.latestLimits = this.limitsOf(active, poolUsage);
      }
      return 0;
    }
    const [backingOff, active, poolUsage, seen] = await (reads ?? this.readCapacity(now));
    // Refills the read may have missed count as running; those it saw are in the store's counts from now on.
    const unseen: Refill[] = [...this.endings.values()];
    for (const r of this.refills)
      if (seen.has(r)) this.refills.delete(r);
      else unseen.push(r.c);
    if (backingOff) {
      // A launch backing off after a dispatch failure waits for its time; its run is planned again then.
      for (let i = candidates.length - 1; backingOff.size && i >= 0; i--) {
        const c = candidates[i]!;
        const h = backingOff.get(c.ti.id);
        if (h && h.try_number === c.ti.try_number) this.opts.wakeAt(c.run.id, h.until), candidates.splice(i, 1);
      }
      if (!candidates.length) {
        this.keepWaiting(round);
        return 0;
      }
    }

    const limits = this.limitsOf(active, poolUsage, await this.runningByTask(candidates));
    this.latestLimits = limits;
    const counted = withRefills(limits, unseen);
    // The previous launch queued none of these same candidates (none built anew, none gone: between launches
    // candidates are only dropped) under the same counts: each still waits for the reason its note gives. With
    // 10,000 runs waiting for a full pool, checking them all again was most of such a tick's CPU.
    if (idle && !built && !unwritten.size && candidates.length === idle.candidates && sameLimits(counted, idle.limits)) {
      this.idle = idle;
      return 0;
    }
    // A new refill queue when this selection orders the candidates anyway (free slots), or when the queue runs
    // low (every slot taken: ordering thousands of waiting candidates on every tick was 8% of the CPU); with no
    // inline candidate, never (only an inline task takes a refill). When nothing fits (every slot a candidate
    // could take is taken), the selection orders nothing of its own: the queue is made then only when it runs low or
    // this selection drops it (updateRefillQueue: new candidates may come first, or the teams' turns moved) — now,
    // not by the tick the next end would wake with no queue to take from, every slot freed meanwhile waiting for it.
    const low = this.refillQueue.length - this.refillHead < this.opts.parallelism || fresh > 0 || this.turnsMoved(counted.teamUsage);
    const refillable = inline !== undefined && candidates.some((c) => c.inline);
    const lookahead = refillable && (low || counted.running < this.opts.parallelism) ? this.refillQueueLength : 0;
    const {
      dispatch: selected,
      waiting,
      next,
    } = selectDispatchable(candidates, counted, lookahead, refillable && low ? this.refillQueueLength : 0);
    if (!selected.length) this.idle = { candidates: candidates.length, limits: counted };
    this.recheck = refusedFree && !selected.length && unseen.length > 0 && waiting.length > 0 && limits.running < this.opts.parallelism;
    this.updateRefillQueue(next, waiting.length, selected.length, fresh, limits, counted.teamUsage);
    const render = noteRenderer();
    // Parallelism reached only by counting refills the read may have seen already (withRefills): a guess. A task
    // that already says why it waits (a full pool, say) keeps its note rather than flip to parallelism's and back
    // on the next tick: with refills running, 10,000 such notes were rewritten tick after tick (Postgres: ~0.3 s each).
    const guessedFull = counted.running >= this.opts.parallelism && limits.running < this.opts.parallelism;
    for (const { candidate, reason } of waiting) {
      const keepNote = guessedFull && reason.kind === "parallelism" && candidate.ti.wait_reason !== null;
      const note = keepNote ? candidate.ti.note! : render(reason);
      const kind = keepNote ? candidate.ti.wait_reason! : reason.kind;
      // A new record exactly when the note or its kind changes (withWaitReason): then the note is written.
      const ti = keepNote ? candidate.ti : withWaitReason(candidate.ti, reason, note);
      const kept = ti === candidate.ti ? candidate : { ...candidate, ti };
      kept.round = round;
      kept.reason = reason;
      if (this.waitingCandidates.get(ti.id) !== kept) this.waitingCandidates.set(ti.id, kept);
      // Scheduled this tick and not yet written: its note rides on that write.
      const scheduling = unwritten.get(ti.id);
      if (scheduling) unwritten.set(ti.id, { ...scheduling, patch: { ...scheduling.patch, note, wait_reason: kind } });
      // A note is written only while its task instance is still scheduled; the snapshot may say none (a
      // candidate of an earlier tick can have been read before it was scheduled).
      else if (ti !== candidate.ti) notes.push({ id: ti.id, state: "scheduled", note, wait_reason: kind });
    }
    // Every entry left is one this call kept waiting: nothing to drop (a walk of 10,000 otherwise).
    if (this.waitingCandidates.size !== waiting.length) this.keepWaiting(round);
    if (unwritten.size) {
      const chosen = new Set(selected.map((c) => c.ti.id));
      const inQueue = this.refillQueue.slice(this.refillHead).map((c) => c.ti.id);
      this.waitingSchedules.take(unwritten, inQueue, (id) => !chosen.has(id) && this.waitingCandidates.has(id));
    }
    if (!selected.length) return 0;
    this.opts.checkpoint();
    // Sensors that took their pool's slot wait deferred, holding it (include_deferred); nothing is launched for them.
    const deferring = selected.some((c) => c.sensor) ? selected.filter((c) => c.sensor) : [];
    if (deferring.length) await sensors?.defer(deferring, now);
    const launching = deferring.length ? selected.filter((c) => !c.sensor) : selected;
    // Only set when there is an inline runner (candidates' `inline` flag).
    const inlineTasks = inline ? launching.filter((c) => c.inline) : [];
    const dispatch = inlineTasks.length ? launching.filter((c) => !c.inline) : launching;
    // The refill queue's first waiting tasks are scheduled before the starts whose ends will look for them.
    if (inlineTasks.length && this.refillable()) await this.writeWaiting(WAITING_SCHEDULES_CHUNK, now);
    let started = 0;
    const failedStarts: { ti: TaskInstanceRecord; error: Error }[] = [];
    // Started together: each start is a store write, and the runner reserves its slots synchronously.
    await Promise.all(
      inlineTasks.map(async (c) => {
        try {
          const scheduling = unwritten.get(c.ti.id);
          const result = await inline?.start(c.ti, c.run, c.spec, scheduling);
          if (result === "busy")
            this.dropRefillQueue(); // a busy one comes before the queue in order
          else if (result === "started") started++, unwritten.delete(c.ti.id), this.runsInline(c);
          else unwritten.delete(c.ti.id); // gone: its scheduling went out with the start that did not apply
        } catch (e) {
          failedStarts.push({ ti: c.ti, error: toError(e) });
        }
      }),
    );
    // A failed start fails its try, which must first be scheduled.
    if (failedStarts.length) {
      const schedules = failedStarts.flatMap((f) => unwritten.get(f.ti.id) ?? []);
      for (const t of schedules) unwritten.delete(t.id);
      if (schedules.length) await this.writeSchedules(schedules, now);
      for (const f of failedStarts) await this.failed(f.ti, f.error, now);
    }
    // Scheduled this tick and not yet written: into scheduled, then queued, in one store call (a batch's later
    // transitions see its earlier ones).
    const schedulings = dispatch.flatMap((c) => unwritten.get(c.ti.id) ?? []);
    for (const t of schedulings) unwritten.delete(t.id);
    const queued = await this.opts.store.applyTransitions(
      [
        ...schedulings,
        ...dispatch.map((c) => ({
          id: c.ti.id,
          from: ["scheduled" as const],
          to: "queued" as const,
          try_number: c.ti.try_number,
          patch: { queued_at: now, executor: this.opts.executorName ?? null, ...waitCleared(c.ti) },
        })),
      ],
      now,
    );
    const launched = dispatch.filter((_, i) => queued[schedulings.length + i]);
    let refused = 0;
    await Promise.all(launched.map(async (c) => (await this.dispatchQueued(c, now)) || refused++));
    return launched.length - refused + started + deferring.length;
  }

  /**
   * Hands a queued candidate to the executor; false when the dispatch buffer refused it (back to scheduled for a
   * later tick). A failed launch fails the try. A launched task is remembered for a chain's hand-off (chainHandOff).
   */
  private async dispatchQueued(c: Candidate, now: Date): Promise<boolean> {
    try {
      await this.opts.dispatcher.dispatch(c.ti, c.run, c.spec);
    } catch (e) {
      if (e instanceof AtCapacityError) {
        await this.returnToScheduled(c.ti, now);
        return false;
      }
      await this.failed(c.ti, toError(e), now);
      return true;
    }
    if (c.tis) {
      this.agentQueued.set(c.ti.id, c);
      // Tries whose end no agent reported (reaped, marked) would stay: the oldest go first.
      if (this.agentQueued.size > Math.max(AGENT_QUEUED_MIN, 4 * this.opts.parallelism))
        this.agentQueued.delete(this.agentQueued.keys().next().value!);
    }
    return true;
  }

  /**
   * A chain's hand-off for tasks run by agents (the executor's, not inline), asked as an agent's report of
   * success for `ended` (its id and try) is about to be written: the one task that success alone makes ready
   * (refill.ts chainSuccessor, agent-run and not a sensor), to queue in the same write (TryNext), or none. The
   * inline hand-over's rules hold: nothing waits for a slot, its run is not held, the latest tick's counts are
   * within their limits (the swap keeps them), and `pastOk` (no run waits on its past). `settle` must follow the
   * write, told whether the move applied: then the task is launched at once, and it answers true (the run needs
   * no tick for this end: the next task keeps it from moving). Until settled, a tick counts it as running (a
   * refill) and does not make it a candidate; the write is conditional, so a tick that got there first wins.
   */
  chainHandOff(
    ended: Pick<TaskInstanceRecord, "id" | "try_number">,
    held: { has(runId: number): boolean },
    pastOk: boolean,
    now: Date,
  ): AgentHandOff | undefined {
    const from = this.agentQueued.get(ended.id);
    this.agentQueued.delete(ended.id);
    if (!pastOk || !from || from.ti.try_number !== ended.try_number) return undefined;
    const { inline, sensors } = this.opts;
    const c = this.chainCandidate(from, from.ti, held, false, (t) => !inline?.accepts(t) && !sensors?.accepts(t));
    if (!c) return undefined;
    const next = c.ti;
    const entry = { c, written: false };
    this.refills.add(entry);
    const patch = waitCleared(next);
    const moves: TryNext = {
      scheduling: { id: next.id, from: ["none"], to: "scheduled", try_number: next.try_number, patch },
      queued: {
        id: next.id,
        from: ["scheduled"],
        to: "queued",
        try_number: next.try_number,
        patch: { queued_at: now, executor: this.opts.executorName ?? null, ...patch },
      },
    };
    const host = this.opts.startOnHandOff;
    if (host?.accepts(taskOf(c.spec, next.task_id)!))
      // What Register's start writes; the agent's process id is not known before it takes the try.
      moves.start = {
        id: next.id,
        from: ["queued"],
        to: "running",
        try_number: next.try_number,
        patch: { start_date: now, last_heartbeat: now, hostname: host.hostname, pid: null, note: null },
      };
    return {
      next: moves,
      task: { ti: next, run: c.run, spec: c.spec },
      settle: async (applied) => {
        if (!applied) {
          this.refills.delete(entry);
          return false;
        }
        entry.written = true;
        // Launched as written: a failed launch of a started try knows to put it back (unStart).
        if (moves.start) c.ti = [moves.scheduling, moves.queued, moves.start].reduce((ti, t) => transitioned(ti, t, now), next);
        return this.dispatchQueued(c, now);
      },
    };
  }

  /**
   * The refill queue after a selection: its continuation of the fair order when it has one; kept when nothing
   * was selected, every candidate waited before and, for a queue of several teams' tasks, each team holds what it
   * held when the queue was ordered (a tick that found every slot taken orders nothing, and the teams' turns are as
   * they were); else empty (a new candidate, a slot that went elsewhere or a team holding more or less may change
   * who is next). It ends before the first candidate whose limits are exceeded at the store's counts `limits`
   * (withinLimits). `usage`: what each team holds, refills counted, as the selection read it.
   */
  private updateRefillQueue(
    next: Candidate[],
    waiting: number,
    selected: number,
    fresh: number,
    limits: CapacityLimits,
    usage: CapacityLimits["teamUsage"],
  ): void {
    // This tick gave out (or counted as taken) the slots refused since the latest one.
    this.refusedSinceTick = false;
    if (next.length) {
      // The queue it replaces served a round of slots or more: the next is ordered long again.
      if (this.refillsFromQueue >= this.opts.parallelism) this.refillQueueLength = REFILL_QUEUE_MAX;
      this.refillQueue = next;
      this.refillHead = 0;
      this.refillQueueComplete = next.length === waiting;
      this.refillsFromQueue = 0;
      this.refillUsage = oneTeam(next) ? "one team" : usage;
      this.refillTeams = this.refillUsage === "one team" ? new Set() : new Set(next.map((c) => c.ti.team));
    } else if (selected || fresh || this.turnsMoved(usage)) this.dropRefillQueue();
    for (let i = this.refillHead; i < this.refillQueue.length; i++)
      if (!withinLimits(this.refillQueue[i]!, limits)) {
        this.refillQueue = this.refillQueue.slice(this.refillHead, i);
        this.refillHead = 0;
        this.refillQueueComplete = false;
        break;
      }
  }

  /** Whether a queue of several teams' tasks was ordered when the teams held other than `usage`: their turns moved. */
  private turnsMoved(usage: CapacityLimits["teamUsage"]): boolean {
    return this.refillUsage !== "one team" && !sameUsage(this.refillUsage, usage);
  }

  private dropRefillQueue(): void {
    this.refillQueue = [];
    this.refillHead = 0;
    this.refillQueueComplete = false;
  }

  /** Whether an inline task heads the refill queue: a freed slot may go to it. */
  private refillable(): boolean {
    return this.refillHead < this.refillQueue.length && this.refillQueue[this.refillHead]!.inline;
  }

  /** A tick failed before writing the waiting candidates' schedules: they stop waiting, and the next tick plans them again. */
  private abandonWaiting(): void {
    for (const id of this.waitingSchedules.abandon()) this.waitingCandidates.delete(id);
  }

  /**
   * Writes up to `limit` of the schedules of the candidates left waiting and brings each written candidate's
   * record up to date (scheduled), so a refill may take it; one whose write did not apply stops waiting. In
   * chunks while an inline task heads the refill queue, else in one write (a sweep's agent-run tasks).
   */
  private async writeWaiting(limit: number, now: Date): Promise<void> {
    await this.waitingSchedules.write(
      (ts) => this.opts.store.applyTransitions(ts, now),
      (t, applied) => this.scheduleWritten(t, applied, now),
      limit,
      this.refillable() ? WAITING_SCHEDULES_CHUNK : Number.POSITIVE_INFINITY,
    );
  }

  /** An inline try's end is about to be written: its slot counts as taken until handOver() (refill.ts). */
  ending(ti: TaskInstanceRecord, spec: DagSpec): void {
    const max = taskOf(spec, ti.task_id)?.max_active_tis_per_dag;
    this.endings.set(ti.id, { ti, inline: true, ...(max !== undefined ? { maxActiveTisPerDag: max } : {}) });
  }

  /**
   * The waiting task to take the slot of `ending` (an inline try whose end is about to be written), by the refill
   * rules (refill.ts), or none: the runner writes its start with that end (InlineTryEnd.next, applied only if the
   * end applies), so the slot passes on without a write of its own. It counts as a refill from now on; handOver()
   * learns whether its start applied. `held`: the runs the latest tick held; `succeeded`: the try ended in success
   * and no run waits on its past (else no chain's next task is handed over).
   */
  successor(ending: TaskInstanceRecord, held: { has(runId: number): boolean }, succeeded = false): SlotSuccessor | undefined {
    const queued = this.takeRefillHead(ending, held);
    const head = queued ?? (succeeded ? this.chainNext(ending, held) : undefined);
    if (!head) return undefined;
    const entry = { c: head, written: false, chained: !queued };
    this.refills.add(entry);
    this.handing.set(ending.id, entry);
    if (head.ti.state !== "none") return head;
    return { ...head, scheduling: { id: head.ti.id, from: ["none"], to: "scheduled", patch: waitCleared(head.ti) }, afterSuccess: true };
  }

  /**
   * A chain's hand-over (refill.ts chainSuccessor): the task that `ending`'s success alone makes ready, to start
   * in its slot with the end's write instead of after a tick. Only while nothing waits for a slot (no queue to
   * jump), its run is not held, and its DAG, pool and team were within their limits at the
   * latest tick's counts; its run's task instances are those the tick that started `ending` read (its start is
   * conditional: a task that moved on since is not started).
   */
  private chainNext(ending: TaskInstanceRecord, held: { has(runId: number): boolean }): Candidate | undefined {
    const from = this.inlineRunning.get(ending.id);
    const inline = this.opts.inline;
    return from && inline ? this.chainCandidate(from, ending, held, true, (t) => inline.accepts(t)) : undefined;
  }

  /**
   * The candidate for the task `ended`'s success alone makes ready (refill.ts chainSuccessor, among the tasks
   * `eligible` takes), looked up in the run `from` (the candidate `ended` was started or queued as) was read
   * with; `inline` says how it runs. None while anything waits for a slot (no queue to jump) or the run is held,
   * and none unless its DAG, pool and team were within their limits at the latest tick's counts: as a refill's,
   * a swap keeps the counts, so a pool shrunk or a quota lowered drains first.
   */
  private chainCandidate(
    from: Candidate,
    ended: TaskInstanceRecord,
    held: { has(runId: number): boolean },
    inline: boolean,
    eligible: (task: DagSpec["tasks"][number]) => boolean,
  ): Candidate | undefined {
    if (!from.tis || this.waitingCandidates.size || held.has(from.run.id)) return undefined;
    const next = chainSuccessor(from.spec, from.tis, ended, eligible);
    if (!next) return undefined;
    const { round: _round, maxActiveTisPerDag: _max, ...rest } = from;
    const c: Candidate = { ...rest, ti: next, inline };
    return this.latestLimits && withinLimits(c, this.latestLimits) ? c : undefined;
  }

  /**
   * An inline try's slot is free (`ended`: its end applied): refill it when the rules allow (refill.ts).
   * `held`: the runs the latest tick held; `refill` false (the loop is stopped): just let the slot go.
   * `successorStarted`: the successor() chosen for this slot started with the end's write (else, the end
   * having applied, it is refilled the usual way, first in line). `refilled` answers whether a waiting task
   * took the slot. Also answers whether the end needs a tick of its run (`succeeded`: the try ended in success
   * and no run waits on its past). `covered` is null when it does (the caller wakes the run now); else the slot
   * went to another task instance of the same run and no downstream task can move on this success while that
   * one is unfinished (refill.ts successNeedsNoPlan): the run's next tick waits for that one's end. `covered`
   * then resolves false when its start did not apply after all, and the caller must wake the run.
   */
  handOver(
    ti: TaskInstanceRecord,
    ended: boolean,
    held: { has(runId: number): boolean },
    refill: boolean,
    succeeded: boolean,
    successorStarted = false,
  ): { refilled: Promise<boolean>; covered: Promise<boolean> | null } {
    const inline = this.opts.inline;
    const handed = this.handing.get(ti.id);
    this.handing.delete(ti.id);
    let head: Candidate | undefined;
    let refilled: Promise<boolean>;
    // A chain's next task took the slot: nothing waited for it, so no queue runs low.
    const chained = handed?.chained === true && successorStarted;
    this.endsInline(ti.id);
    if (handed && successorStarted) {
      // Started by the end's own write (successor()).
      handed.written = true;
      head = handed.c;
      this.runsInline(head);
      this.dropWaiting(head);
      refilled = Promise.resolve(true);
    } else {
      if (handed) this.refills.delete(handed);
      // A waiting successor the end's write did not start is still next in order (or gone: then the queue's next
      // is). A chain's next task was never scheduled: the queue's next takes the slot, the run's tick plans it.
      const first = handed && !handed.chained ? handed.c : undefined;
      head = ended && refill ? (first ?? this.takeRefillHead(ti, held)) : undefined;
      // The refill's own count is in place before the ending one goes (synchronously): no read sees neither.
      refilled = head ? this.refill(head, ti, held) : Promise.resolve(false);
    }
    this.endings.delete(ti.id);
    if (this.recheck) {
      this.recheck = false;
      void refilled.then(() => this.opts.wake(ti.dag_run_id));
    }
    const lowWater = Math.min(this.opts.parallelism, REFILL_LOW_WATER);
    const quiet =
      head &&
      succeeded &&
      inline?.isRunning &&
      head.run.id === ti.dag_run_id &&
      (chained || this.refillQueueComplete || this.refillQueue.length - this.refillHead >= lowWater) &&
      successNeedsNoPlan(head.spec, ti.task_id, head.ti.task_id);
    if (!quiet || !head) return { refilled, covered: null };
    const successor = { id: head.ti.id, try_number: head.ti.try_number };
    return { refilled, covered: refilled.then((s) => s && inline.isRunning!(successor)) };
  }

  /**
   * The head of the refill queue that may take the inline slot `freed` left (its try's end applied), or none
   * (the queue is dropped: refilling waits for the next tick). `held`: the runs the latest tick held.
   */
  private takeRefillHead(freed: FreedSlot, held: { has(runId: number): boolean }): Candidate | undefined {
    const inline = this.opts.inline;
    // Entries launched or withdrawn since the queue was built are passed over: the rest keep their order.
    let at = this.nextLiveInQueue(this.refillHead);
    this.refillHead = at;
    let head = this.waitingCandidates.get(this.refillQueue[at]?.ti.id ?? -1);
    // Heads this slot cannot help (their own pool, DAG, team or task still full: refill.ts) stay queued, first for a
    // slot they can take; teams' fan-outs take turns in fair order, so the head is often another team's task.
    const fits = (c: Candidate) => mayRefill(freed, c, held.has(c.run.id));
    // Another team's head waiting for parallelism is passed over when a tick would give this slot to its own team.
    let ownTurn: boolean | undefined;
    const passable = (c: Candidate) =>
      c.reason !== undefined &&
      (cannotTakeFreedSlot(c.reason, c.ti, freed) ||
        (c.reason.kind === "parallelism" && c.ti.team !== freed.team && (ownTurn ??= this.freedTeamsTurn(freed.team))));
    for (let passed = 0; head && !fits(head) && passable(head); passed++) {
      if (passed >= PASS_OVER_MAX) {
        head = undefined;
        break;
      }
      at = this.nextLiveInQueue(at + 1);
      head = this.waitingCandidates.get(this.refillQueue[at]?.ti.id ?? -1);
    }
    // Its schedule is still being written (writeWaiting): the queue stays for the ends that follow.
    if (head && this.waitingSchedules.has(head.ti.id)) return undefined;
    if (!inline || !head || !fits(head)) {
      // Used up, the queue was worth its length; refused early, the next one is ordered short.
      const short = head !== undefined && this.refillsFromQueue < this.opts.parallelism;
      this.refillQueueLength = short ? SHORT_QUEUE_ROUNDS * this.opts.parallelism : REFILL_QUEUE_MAX;
      // A head that would take a slot of its own kind stays first for one; this slot goes to a tick (refill.ts).
      if (inline && head && refillableElsewhere(head, held.has(head.run.id))) {
        this.refusedSinceTick = true;
        return undefined;
      }
      this.dropRefillQueue();
      return undefined;
    }
    this.refillsFromQueue++;
    if (at === this.refillHead) this.refillHead++;
    else this.refillQueue.splice(at, 1);
    return head;
  }

  /**
   * Whether a tick would give a slot `team` freed to `team`'s next task (refill.ts freedTeamGoesFirst); never while a
   * refused slot waits for a tick (refusedSinceTick). What a team holds: its inline tasks this step runs, counted as
   * they start and end (the tick's counts add a guess for refills in flight, which made teams holding alike look
   * uneven), and its other tasks as the latest tick's read counted them.
   */
  private freedTeamsTurn(team: string): boolean {
    if (this.refillUsage === "one team" || this.refusedSinceTick) return false;
    const stored = this.latestLimits?.teamUsage;
    const held = (t: string) => {
      const u = stored?.get(t);
      // The read may also count inline tasks this step did not start (a term before this one's): the larger count.
      return (u ? u.tasks - u.inline : 0) + Math.max(u?.inline ?? 0, this.inlineByTeam.get(t) ?? 0);
    };
    return freedTeamGoesFirst(team, held, this.refillTeams);
  }

  /** `c` runs inline, started by this step (a tick, a refill, a hand-over). */
  private runsInline(c: Candidate): void {
    if (this.inlineRunning.has(c.ti.id)) return;
    this.inlineRunning.set(c.ti.id, c);
    this.inlineByTeam.set(c.ti.team, (this.inlineByTeam.get(c.ti.team) ?? 0) + 1);
  }

  /** The inline task `id` this step started has ended (its slot is being handed over). */
  private endsInline(id: number): void {
    const c = this.inlineRunning.get(id);
    if (!c) return;
    this.inlineRunning.delete(id);
    const n = (this.inlineByTeam.get(c.ti.team) ?? 1) - 1;
    if (n > 0) this.inlineByTeam.set(c.ti.team, n);
    else this.inlineByTeam.delete(c.ti.team);
  }

  /** The index of the first entry at or after `from` still waiting on the try it was queued for (the queue's end if none). */
  private nextLiveInQueue(from: number): number {
    let i = from;
    for (; i < this.refillQueue.length; i++) {
      const queued = this.refillQueue[i]!;
      const now = this.waitingCandidates.get(queued.ti.id);
      if (now && now.ti.try_number === queued.ti.try_number) break;
    }
    return i;
  }

  /**
   * Starts `head` (takeRefillHead's) in the slot `freed` left: one start write instead of a tick's reads,
   * planning and write. A head that had moved on meanwhile ("gone": started by a tick, marked, cleared) passes
   * the slot to the next head. Answers whether a task started; when none does, refilling waits for the next tick.
   */
  private async refill(head: Candidate, freed: FreedSlot, held: { has(runId: number): boolean }): Promise<boolean> {
    for (let c: Candidate | undefined = head; c; c = this.takeRefillHead(freed, held)) {
      const result = await this.startRefill(c);
      if (result !== "gone") return result === "started";
    }
    return false;
  }

  /**
   * One refill start; "failed" (logged) and "busy" drop the queue and plan the run again (a tick meanwhile
   * left the task out of its candidates, so only its run's next plan sees it waiting).
   */
  private async startRefill(head: Candidate): Promise<"started" | "busy" | "gone" | "failed"> {
    const inline = this.opts.inline!;
    const entry = { c: head, written: false };
    this.refills.add(entry);
    let result: "started" | "busy" | "gone";
    try {
      result = await inline.start(head.ti, head.run, head.spec);
    } catch (e) {
      // Where it was (scheduled, still waiting): a tick picks it up.
      this.refills.delete(entry);
      this.dropRefillQueue();
      this.opts.logger.warn("starting a waiting inline task in a freed slot failed; the next tick tries again", {
        task_id: head.ti.task_id,
        error: toError(e),
      });
      this.opts.wake(head.run.id);
      return "failed";
    }
    if (result === "busy") {
      this.refills.delete(entry);
      this.dropRefillQueue();
      this.opts.wake(head.run.id);
      return result;
    }
    if (result === "gone") this.refills.delete(entry);
    else (entry.written = true), this.runsInline(head);
    // Started, or no longer waiting: either way not a candidate any more.
    this.dropWaiting(head);
    return result;
  }

  /** Forgets `c` as a waiting candidate (its try started, or moved on). */
  private dropWaiting(c: Candidate): void {
    if (this.waitingCandidates.get(c.ti.id)?.ti.try_number === c.ti.try_number) this.waitingCandidates.delete(c.ti.id);
  }

  /** Drops the waiting candidates that launch() `round` did not leave waiting (launched, withdrawn, replaced). */
  private keepWaiting(round: number): void {
    const gone: number[] = [];
    for (const [id, c] of this.waitingCandidates) if (c.round !== round) gone.push(id);
    for (const id of gone) this.waitingCandidates.delete(id);
  }

  /** Records a launch that failed (also after dispatch() returned: the buffered dispatcher's failure sink). */
  async failed(ti: TaskInstanceRecord, error: Error, now: Date): Promise<void> {
    try {
      const queued = await this.unStart(ti, now);
      if (!queued) return;
      await (this.opts.onDispatchFailure ?? this.failDispatch)(queued, error, now);
    } catch (e) {
      this.opts.logger.error("recording a dispatch failure failed", { task_id: ti.task_id, error: toError(e) });
    }
  }

  /**
   * A try a chain's hand-off started (startOnHandOff) whose launch failed: nothing runs it, so back to queued
   * (running → queued on its try, its start undone) before the failure is handled as any launch's. The record
   * as queued; null when the try moved on meanwhile (marked, cleared, reaped): nothing more to do. Any other
   * record is answered as it is.
   */
  private async unStart(ti: TaskInstanceRecord, now: Date): Promise<TaskInstanceRecord | null> {
    if (ti.state !== "running") return ti;
    const back: TaskTransition = {
      id: ti.id,
      from: ["running"],
      to: "queued",
      try_number: ti.try_number,
      patch: { start_date: null, last_heartbeat: null, hostname: null, pid: null },
    };
    const [applied] = await this.opts.store.applyTransitions([back], now);
    return applied ? transitioned(ti, back, now) : null;
  }

  /** A full dispatch buffer is backpressure, not a failure: queued → scheduled on the same try, for a later tick. */
  private async returnToScheduled(started: TaskInstanceRecord, now: Date): Promise<void> {
    try {
      const ti = await this.unStart(started, now);
      if (!ti) return;
      await this.opts.store.applyTransitions(
        [{ id: ti.id, from: ["queued"], to: "scheduled", try_number: ti.try_number, patch: { queued_at: null, executor: null } }],
        now,
      );
    } catch (e) {
      this.opts.logger.error("could not hand a refused launch back to scheduled; the dispatch-lost reaper will", {
        task_id: started.task_id,
        error: toError(e),
      });
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
    this.opts.wake(ti.dag_run_id);
  };
}
