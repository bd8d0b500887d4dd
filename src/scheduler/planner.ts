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
}

/** States in which a task instance is still moving on its own: downstream tasks wait for them. */
const ACTIVE: ReadonlySet<TaskState> = new Set(["scheduled", "queued", "running", "up_for_retry"]);

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
 *    failures cascade down the whole graph in one plan. A failure with retries left counts as active;
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

  const tasks = new Map(spec.tasks.map((t) => [t.task_id, t]));
  const rank = topologicalRanks(spec.tasks);
  const tiByTask = new Map(tis.map((ti) => [ti.task_id, ti]));
  const effective = new Map<string, TaskState>(tis.map((ti) => [ti.task_id, ti.state]));
  const planned = new Map<string, TaskTransition>();
  let wake: number | null = null;
  const wakeAt = (ms: number) => (wake = wake === null ? ms : Math.min(wake, ms));

  const plan = (ti: TaskInstanceRecord, to: TaskState, patch?: TaskInstancePatch) => {
    assertTransition(ti.state, to); // every planned change is legal by construction; a throw is a planner bug
    planned.set(ti.task_id, { id: ti.id, from: [ti.state], to, try_number: ti.try_number, ...(patch ? { patch } : {}) });
    effective.set(ti.task_id, to);
  };

  // 1 and 2: removals and retries, which change what downstream tasks see.
  for (const ti of tis) {
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
  const order = [...spec.tasks].sort((a, b) => byRank(rank, a.task_id, b.task_id));
  const waitingOnPast = new Set<string>();
  const notes: TaskNoteUpdate[] = [];
  for (const task of order) {
    const ti = tiByTask.get(task.task_id);
    if (!ti || planned.has(task.task_id) || ti.state !== "none") continue;
    const upstream = task.upstream.filter((u) => tasks.has(u));
    const states = upstream.map((u) => effective.get(u) ?? "none");
    const decision = evaluateTriggerRule(task.trigger_rule, states);
    const past = input.blockedByPast?.get(task.task_id);
    if (decision === "schedule" && past !== undefined) {
      waitingOnPast.add(task.task_id);
      notes.push(...waitingNotes([{ candidate: { ti }, reason: past }]));
    } else if (decision === "schedule") plan(ti, "scheduled", ti.wait_reason === null ? undefined : waitCleared(ti));
    else if (decision !== "wait") {
      const to = decision === "skip" ? "skipped" : "upstream_failed";
      const why = upstream.map((u, i) => `${u}=${states[i]}`).join(", ");
      plan(ti, to, { start_date: ti.start_date ?? now, end_date: now, note: `trigger rule ${task.trigger_rule}: ${why}` });
    }
  }

  const transitions = [...planned.entries()].sort(([a], [b]) => byRank(rank, a, b)).map(([, t]) => t);
  return {
    transitions,
    run: planRunState(run.state, spec, tis, effective, planned, waitingOnPast.size > 0),
    nextWakeAt: wake === null ? null : new Date(wake),
    ...(notes.length ? { notes } : {}),
  };
}

/** Not-yet-running states a task instance of a vanished task may be removed from. */
const REMOVABLE: ReadonlySet<TaskState> = new Set(["none", "scheduled", "up_for_retry"]);

function planRunState(
  current: DagRunState,
  spec: DagSpec,
  tis: TaskInstanceRecord[],
  effective: Map<string, TaskState>,
  planned: Map<string, TaskTransition>,
  waitingOnPast = false,
): RunPlan["run"] {
  const after = tis.map((ti) => ({
    task_id: ti.task_id,
    state: effective.get(ti.task_id)!,
    try_number: planned.get(ti.task_id)?.patch?.try_number ?? ti.try_number,
    max_tries: ti.max_tries,
  }));
  const final = finalizeRun({ spec, tis: after });
  if (final) return { from: [current], to: final, ...(final === "failed" ? { note: failureNote(after) } : {}) };

  // Tasks still `none` that no plan will ever move: nothing is active, and their rules still wait
  // (e.g. an upstream is removed or has no task instance). Airflow fails such a run as deadlocked.
  const active = after.some((t) => ACTIVE.has(t.state)) || [...planned.values()].some((t) => t.to === "none");
  const stuck = after.filter((t) => t.state === "none" && !planned.has(t.task_id)).map((t) => t.task_id);
  if (!active && stuck.length && !waitingOnPast)
    return {
      from: [current],
      to: "failed",
      note: `deadlock: task(s) ${stuck.sort().join(", ")} can never start; their upstreams finished without meeting their trigger rules`,
    };
  return current === "queued" ? { from: ["queued"], to: "running" } : null;
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
  for (const ti of input.tis) {
    if (!isTerminalTaskState(ti.state)) return null;
    if (ti.state === "failed" && ti.try_number <= ti.max_tries && inSpec.has(ti.task_id)) return null;
  }
  const leaves = leafTaskIds(input.spec.tasks);
  const leafFailed = input.tis.some((ti) => leaves.has(ti.task_id) && (ti.state === "failed" || ti.state === "upstream_failed"));
  return leafFailed ? "failed" : "success";
}

/** Tasks no other task lists as upstream. */
export function leafTaskIds(tasks: Pick<TaskSpec, "task_id" | "upstream">[]): Set<string> {
  const hasDownstream = new Set(tasks.flatMap((t) => t.upstream));
  return new Set(tasks.map((t) => t.task_id).filter((id) => !hasDownstream.has(id)));
}

/**
 * Each task's depth: 0 for roots, else 1 + the deepest upstream. Sorting by (depth, task_id) is a
 * topological order that does not depend on the order tasks are written in.
 */
export function topologicalRanks(tasks: Pick<TaskSpec, "task_id" | "upstream">[]): Map<string, number> {
  const upstream = new Map(tasks.map((t) => [t.task_id, t.upstream]));
  const rank = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (id: string): number => {
    const known = rank.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) throw new Error(`cycle through task "${id}"; parseDagSpec should have refused this DAG`);
    visiting.add(id);
    let d = 0;
    for (const u of upstream.get(id) ?? []) if (upstream.has(u)) d = Math.max(d, depth(u) + 1);
    visiting.delete(id);
    rank.set(id, d);
    return d;
  };
  for (const t of tasks) depth(t.task_id);
  return rank;
}

function byRank(rank: Map<string, number>, a: string, b: string): number {
  const ra = rank.get(a) ?? Infinity;
  const rb = rank.get(b) ?? Infinity;
  if (ra !== rb) return ra < rb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
