/**
 * The planner: given one dag run, its task instances and its pinned DAG version, decide every state change
 * that is due now. Pure and deterministic — the loop applies the result as conditional writes, so a plan
 * computed from a stale snapshot loses races harmlessly instead of clobbering.
 */
import {
  assertTransition,
  evaluateTriggerRule,
  isTerminalDagRunState,
  isTerminalTaskState,
  stateTally,
  type DagRunState,
  type DagSpec,
  type TaskSpec,
  type TaskState,
  type WaitReason,
  type DagRunRecord,
  type TaskInstancePatch,
  type TaskInstanceRecord,
  type TaskNoteUpdate,
  type TaskTransition,
  isMapped,
} from "../domain";
import { waitCleared, waitingNotes } from "./waiting";
import { retryDelaySeconds } from "./retry";

export interface PlanInput {
  run: DagRunRecord;
  tis: TaskInstanceRecord[];
  /** The DAG version the run is pinned to. */
  spec: DagSpec;
  /** depends_on_past tasks that must wait, with why (pastBlocks in depends-on-past.ts). */
  blockedByPast?: ReadonlyMap<string, WaitReason>;
  /**
   * The tasks whose task instances changed since this run's previous plan, whose transitions were all
   * written or lost their race (LiveSnapshots.changedTasks). Given, only they, the tasks downstream of them,
   * and retries waiting for their delay are decided again: every other task instance is where that plan left
   * it, and so is its decision. Ignored (everything is decided) for DAGs with mapped or depends_on_past tasks:
   * an expansion, or a previous run finishing, moves them without a change in this run.
   */
  changedTasks?: ReadonlySet<string>;
}

export interface RunPlan {
  /** One transition per task instance at most, in topological then task_id order; `from` is its current state. */
  transitions: TaskTransition[];
  /** queued → running on the first plan; → success/failed once the run is finished; else null. */
  run: { from: DagRunState[]; to: DagRunState; note?: string } | null;
  /**
   * When planning this run again can make progress without any outside event: the earliest retry due
   * time, or `now` when a retry was just reset (its next plan schedules it). Null when only outside events
   * (a task reporting back) can move the run. May be in the past: plan again at once.
   */
  nextWakeAt: Date | null;
  /** Note-only writes for task instances that wait on their past (written only when the note or its kind changes). */
  notes?: TaskNoteUpdate[];
  /**
   * Mapped tasks whose upstreams are done, still at map_index -1: the loop loads the XComs their mapping
   * reads and expands them (expandTask); until then they count as waiting, not deadlocked.
   */
  expansions?: TaskInstanceRecord[];
}

/** States in which a task instance is still moving on its own: downstream tasks wait for them. */
const ACTIVE: ReadonlySet<TaskState> = new Set(["scheduled", "queued", "running", "up_for_retry", "up_for_reschedule", "deferred"]);

/** A reset clears everything that described the previous try. */
const RETRY_RESET: TaskInstancePatch = {
  start_date: null,
  end_date: null,
  queued_at: null,
  hostname: null,
  pid: null,
  last_heartbeat: null,
  note: null,
};

/**
 * Plans one run. In order:
 * 1. task instances whose task is not in the run's DAG version → removed (if not started);
 * 2. retries: failed with tries left → up_for_retry; up_for_retry whose delay has passed → none, next try;
 * 3. walking tasks in topological order over *effective* states (this plan's changes included), each
 *    `none` task is scheduled, skipped or marked upstream_failed by its trigger rule, so skips and
 *    failures cascade down the whole graph in one plan. A failure with retries left counts as active.
 *    An empty task whose rule says schedule succeeds at once instead (Airflow's EmptyOperator: no executor,
 *    no slot, start_date = end_date = now), so a chain of them ends within the plan too;
 * 4. the run: queued → running; once every task instance is finished, success or failed (finalizeRun);
 *    failed with a "deadlock" note if tasks wait on upstreams that can no longer change.
 * At most one transition per task instance: a retry reset to none is scheduled by the next plan.
 * A task in `blockedByPast` whose rule says schedule stays `none` with its note instead; while any does,
 * the run is not declared deadlocked (Airflow waits for the previous run to be fixed).
 *
 * @example const plan = planRun({ run, tis, spec }, new Date()); await store.applyTransitions(plan.transitions, now)
 */
export function planRun(input: PlanInput, now: Date): RunPlan {
  const { run, tis, spec } = input;
  if (isTerminalDagRunState(run.state)) return { transitions: [], run: null, nextWakeAt: null };

  const index = specIndex(spec);
  const { tasks } = index;
  // A large run is planned on every completion in it: decide only what its changes can move (see changedTasks).
  const changed = input.changedTasks && !index.plannedWhole ? input.changedTasks : null;
  // A mapped task has one task instance per map_index, so everything is keyed by task instance id.
  const tiByTask = new Map<string, TaskInstanceRecord[]>();
  // This plan's changes by task instance id: a task instance's effective state is its planned `to`, else its state.
  const planned = new Map<number, { t: TaskTransition; ti: TaskInstanceRecord }>();
  const stateOf = (ti: TaskInstanceRecord): TaskState => planned.get(ti.id)?.t.to ?? ti.state;
  const expansions: TaskInstanceRecord[] = [];
  let wake: number | null = null;
  const wakeAt = (ms: number) => (wake = wake === null ? ms : Math.min(wake, ms));

  const plan = (ti: TaskInstanceRecord, to: TaskState, patch?: TaskInstancePatch) => {
    assertTransition(ti.state, to); // every planned change is legal by construction; a throw is a planner bug
    planned.set(ti.id, { t: { id: ti.id, from: [ti.state], to, try_number: ti.try_number, ...(patch ? { patch } : {}) }, ti });
  };

  // 1 and 2: removals and retries, which change what downstream tasks see.
  let noneWaiting = false;
  for (const ti of tis) {
    if (changed) {
      // Only retries move with time alone; any other unchanged task instance keeps its previous decision.
      if (ti.state === "none") noneWaiting = true;
      if (ti.state !== "up_for_retry" && !changed.has(ti.task_id)) continue;
    } else {
      const list = tiByTask.get(ti.task_id);
      if (list) list.push(ti);
      else tiByTask.set(ti.task_id, [ti]);
    }
    if (ti.state !== "failed" && ti.state !== "up_for_retry" && !REMOVABLE.has(ti.state)) continue;
    const task = tasks.get(ti.task_id);
    if (!task) {
      if (REMOVABLE.has(ti.state)) plan(ti, "removed", { note: `task ${ti.task_id} is not in this run's DAG version` });
      continue;
    }
    if (ti.state === "failed" && ti.try_number <= ti.max_tries) {
      const failedAt = ti.end_date ?? now;
      plan(ti, "up_for_retry", ti.end_date ? undefined : { end_date: now });
      wakeAt(failedAt.getTime() + retryDelaySeconds(task, ti.try_number) * 1000);
    } else if (ti.state === "up_for_retry") {
      const due = (ti.end_date ?? ti.updated_at).getTime() + retryDelaySeconds(task, ti.try_number) * 1000;
      if (due <= now.getTime()) {
        plan(ti, "none", { ...RETRY_RESET, try_number: ti.try_number + 1 });
        wakeAt(now.getTime());
      } else wakeAt(due);
    }
  }

  // 3: trigger rules, upstream before downstream, so decisions cascade within this plan.
  // Every instance of a mapped upstream counts, as in Airflow, but for those its last expansion removed; an
  // upstream with no instance yet is `none`.
  const counts = (ti: TaskInstanceRecord) => ti.map_index < 0 || stateOf(ti) !== "removed";
  const statesOf = (upstream: string): TaskState[] => tiByTask.get(upstream)?.filter(counts).map(stateOf) ?? ["none"];
  const waitingOnPast = new Set<string>();
  const notes: TaskNoteUpdate[] = [];
  // With changes given: a task is decided again when it or an upstream changed, or an upstream moves in this
  // plan (`moved`, filled in topological order). Without task instances in none there is nothing to decide.
  const moved = changed ? new Set<string>([...planned.values()].map((p) => p.ti.task_id)) : null;
  if (changed && noneWaiting)
    for (const ti of tis) {
      const list = tiByTask.get(ti.task_id);
      if (list) list.push(ti);
      else tiByTask.set(ti.task_id, [ti]);
    }
  for (const task of changed && !noneWaiting ? [] : index.order) {
    if (changed && !decidesAgain(task.task_id, index.upstream.get(task.task_id)!, changed, moved!)) continue;
    const list = tiByTask.get(task.task_id);
    if (!list) continue;
    let waiting: TaskInstanceRecord[] | null = null;
    for (const ti of list) if (ti.state === "none" && !planned.has(ti.id)) (waiting ??= []).push(ti);
    if (!waiting) continue;
    const upstream = index.upstream.get(task.task_id)!;
    const states: TaskState[] = [];
    for (const u of upstream) {
      const ups = tiByTask.get(u);
      if (!ups) states.push("none");
      else for (const ti of ups) if (counts(ti)) states.push(stateOf(ti));
    }
    const decision = evaluateTriggerRule(task.trigger_rule, states);
    const past = input.blockedByPast?.get(task.task_id);
    for (const ti of waiting) {
      if (decision === "schedule" && past !== undefined) {
        waitingOnPast.add(task.task_id);
        notes.push(...waitingNotes([{ candidate: { ti }, reason: past }]));
      } else if (decision === "schedule" && ti.map_index === UNEXPANDED && isMapped(task)) expansions.push(ti);
      else if (decision === "schedule" && task.operator === "empty") plan(ti, "success", emptySuccess(ti, now));
      else if (decision === "schedule") plan(ti, "scheduled", ti.wait_reason === null ? undefined : waitCleared(ti));
      else if (decision !== "wait") {
        const to = decision === "skip" ? "skipped" : "upstream_failed";
        const why = upstream.map((u) => `${u}=${describeStates(statesOf(u))}`).join(", ");
        plan(ti, to, { start_date: ti.start_date ?? now, end_date: now, note: `trigger rule ${task.trigger_rule}: ${why}` });
      }
      if (planned.has(ti.id)) moved?.add(task.task_id);
    }
  }

  const { rank } = index;
  const transitions = [...planned.values()]
    .sort((a, b) => byRank(rank, a.ti.task_id, b.ti.task_id) || a.ti.map_index - b.ti.map_index)
    .map((p) => p.t);
  return {
    transitions,
    run: planRunState(run.state, index, tis, planned, waitingOnPast.size > 0 || expansions.length > 0),
    nextWakeAt: wake === null ? null : new Date(wake),
    ...(notes.length ? { notes } : {}),
    ...(expansions.length ? { expansions } : {}),
  };
}

/** An empty task's try, done as it is decided: it started and ended now, and says nothing about waiting. */
function emptySuccess(ti: TaskInstanceRecord, now: Date): TaskInstancePatch {
  return { start_date: now, end_date: now, ...waitCleared(ti) };
}

/** A task is decided again when it changed, or one of its upstreams changed or moves in this plan. */
function decidesAgain(taskId: string, upstream: readonly string[], changed: ReadonlySet<string>, moved: ReadonlySet<string>): boolean {
  if (changed.has(taskId) || moved.has(taskId)) return true;
  for (const u of upstream) if (changed.has(u) || moved.has(u)) return true;
  return false;
}

/** The map_index of a task instance that is not mapped, or of a mapped task before its expansion (Airflow's -1). */
const UNEXPANDED = -1;

/** `success`, or for a mapped upstream a count per state: `[success×48, failed×2]`. */
function describeStates(states: readonly TaskState[]): string {
  return states.length === 1 ? states[0]! : stateTally(states);
}

/** Not-yet-running states a task instance of a vanished task may be removed from. */
const REMOVABLE: ReadonlySet<TaskState> = new Set(["none", "scheduled", "up_for_retry"]);

/**
 * The run's change after this plan. One pass over the task instances without copying them: a large run is
 * planned on every completion in it, and most plans change nothing here.
 */
function planRunState(
  current: DagRunState,
  index: SpecIndex,
  tis: readonly TaskInstanceRecord[],
  planned: ReadonlyMap<number, { t: TaskTransition; ti: TaskInstanceRecord }>,
  waitingOnPast: boolean,
): RunPlan["run"] {
  let finished = true;
  let active = false;
  for (const ti of tis) {
    const p = planned.size ? planned.get(ti.id)?.t : undefined;
    const state = p?.to ?? ti.state;
    if (ACTIVE.has(state) || p?.to === "none") active = true;
    if (finished && blocksFinish(state, p?.patch?.try_number ?? ti.try_number, ti.max_tries, () => index.tasks.has(ti.task_id)))
      finished = false;
    if (active && !finished) break; // neither can change back: the run just goes on
  }
  if (finished) {
    const after = tis.map((ti) => ({ task_id: ti.task_id, state: planned.get(ti.id)?.t.to ?? ti.state }));
    const final = finalState(after, index.leaves);
    return { from: [current], to: final, ...(final === "failed" ? { note: failureNote(after) } : {}) };
  }

  // Tasks still `none` that no plan will ever move: nothing is active, and their rules still wait
  // (e.g. an upstream is removed or has no task instance). Airflow fails such a run as deadlocked.
  if (!active && !waitingOnPast) {
    const stuck = [...new Set(tis.filter((t) => t.state === "none" && !planned.has(t.id)).map((t) => t.task_id))];
    if (stuck.length)
      return {
        from: [current],
        to: "failed",
        note: `deadlock: task(s) ${stuck.sort().join(", ")} can never start; their upstreams finished without meeting their trigger rules`,
      };
  }
  return current === "queued" ? { from: ["queued"], to: "running" } : null;
}

/** A task instance keeps its run from finishing: it is not finished, or it failed with retries left. */
function blocksFinish(state: TaskState, tryNumber: number, maxTries: number, inSpec: () => boolean): boolean {
  return !isTerminalTaskState(state) || (state === "failed" && tryNumber <= maxTries && inSpec());
}

/** A finished run's state: failed if any leaf task failed or is upstream_failed, else success. */
function finalState(tis: readonly { task_id: string; state: TaskState }[], leaves: ReadonlySet<string>): DagRunState {
  const leafFailed = tis.some((ti) => leaves.has(ti.task_id) && (ti.state === "failed" || ti.state === "upstream_failed"));
  return leafFailed ? "failed" : "success";
}

function failureNote(tis: { task_id: string; state: TaskState }[]): string {
  const failed = tis
    .filter((t) => t.state === "failed")
    .map((t) => t.task_id)
    .sort();
  if (failed.length) return `task(s) failed: ${failed.join(", ")}`;
  const upstreamFailed = tis
    .filter((t) => t.state === "upstream_failed")
    .map((t) => t.task_id)
    .sort();
  return `task(s) upstream_failed: ${upstreamFailed.join(", ")}`;
}

export interface FinalizeInput {
  spec: Pick<DagSpec, "tasks">;
  tis: { task_id: string; state: TaskState; try_number: number; max_tries: number }[];
}

/**
 * The run's final state once every task instance is finished, else null. A failure with retries left
 * is not finished. Airflow's rule: if any leaf task (no downstream; removed ones ignored) is failed or
 * upstream_failed the run failed, otherwise (leaves success or skipped) it succeeded — so a failure
 * absorbed by an all_done leaf does not fail the run.
 *
 * @example finalizeRun({ spec, tis: [{ task_id: "a", state: "success", try_number: 1, max_tries: 0 }] }) // "success"
 */
export function finalizeRun(input: FinalizeInput): DagRunState | null {
  const inSpec = new Set(input.spec.tasks.map((t) => t.task_id));
  for (const ti of input.tis) if (blocksFinish(ti.state, ti.try_number, ti.max_tries, () => inSpec.has(ti.task_id))) return null;
  return finalState(input.tis, leafTaskIds(input.spec.tasks));
}

/** Per DAG version (the loop's SpecCache hands every run of it the same object): computed once, not per run. */
type SpecIndex = {
  tasks: Map<string, TaskSpec>;
  rank: Map<string, number>;
  order: TaskSpec[];
  /** Each task's upstreams that are in this version. */
  upstream: Map<string, string[]>;
  leaves: Set<string>;
  /** The version has a mapped or depends_on_past task: every plan decides everything (PlanInput.changedTasks). */
  plannedWhole: boolean;
};
const specIndexes = new WeakMap<DagSpec, SpecIndex>();

function specIndex(spec: DagSpec): SpecIndex {
  let index = specIndexes.get(spec);
  if (!index) {
    const rank = topologicalRanks(spec.tasks);
    const order = [...spec.tasks].sort((a, b) => byRank(rank, a.task_id, b.task_id));
    const tasks = new Map(spec.tasks.map((t) => [t.task_id, t]));
    const upstream = new Map(spec.tasks.map((t) => [t.task_id, t.upstream.filter((u) => tasks.has(u))]));
    index = {
      tasks,
      rank,
      order,
      upstream,
      leaves: leafTaskIds(spec.tasks),
      plannedWhole: spec.tasks.some((t) => isMapped(t) || t.depends_on_past),
    };
    specIndexes.set(spec, index);
  }
  return index;
}

/** Tasks no other task lists as upstream. */
export function leafTaskIds(tasks: Pick<TaskSpec, "task_id" | "upstream">[]): Set<string> {
  const hasDownstream = new Set(tasks.flatMap((t) => t.upstream));
  return new Set(tasks.map((t) => t.task_id).filter((id) => !hasDownstream.has(id)));
}

/**
 * Each task's depth: 0 for roots, else 1 + the deepest upstream. Sorting by (depth, task_id) is a
 * topological order that does not depend on the order tasks are written in. Walked with a stack of its own, not
 * by recursion: a chain of 30,000 tasks declared leaf first overflowed the call stack, and its run never planned.
 */
export function topologicalRanks(tasks: Pick<TaskSpec, "task_id" | "upstream">[]): Map<string, number> {
  const upstream = new Map(tasks.map((t) => [t.task_id, t.upstream]));
  const rank = new Map<string, number>();
  const visiting = new Set<string>();
  /** A task being walked: its upstreams, the next one to look at, its depth so far. */
  const stack: { id: string; ups: readonly string[]; next: number; d: number }[] = [];
  const enter = (id: string) => {
    if (visiting.has(id)) throw new Error(`cycle through task "${id}"; parseDagSpec should have refused this DAG`);
    visiting.add(id);
    stack.push({ id, ups: upstream.get(id) ?? [], next: 0, d: 0 });
  };
  for (const t of tasks) {
    if (rank.has(t.task_id)) continue;
    enter(t.task_id);
    while (stack.length) {
      const f = stack[stack.length - 1]!;
      if (f.next < f.ups.length) {
        const u = f.ups[f.next++]!;
        if (!upstream.has(u)) continue;
        const known = rank.get(u);
        if (known !== undefined) f.d = Math.max(f.d, known + 1);
        else enter(u); // its rank is folded into f when it is done
        continue;
      }
      stack.pop();
      visiting.delete(f.id);
      rank.set(f.id, f.d);
      const parent = stack[stack.length - 1];
      if (parent) parent.d = Math.max(parent.d, f.d + 1);
    }
  }
  return rank;
}

function byRank(rank: Map<string, number>, a: string, b: string): number {
  const ra = rank.get(a) ?? Infinity;
  const rb = rank.get(b) ?? Infinity;
  if (ra !== rb) return ra < rb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
