/**
 * The task-instance and dag-run state machines, each written as one table. Every state write goes through
 * `canTransition` / `canTransitionDagRun` (the store's conditional updates guard races; these tables guard
 * meaning). A state "moving" to itself is not a transition: callers treat it as a no-op.
 */
import { IllegalTransitionError } from "./errors";
import { storableText } from "./json-safety";
import type { TaskInstancePatch, TaskInstanceRecord, TaskTransition } from "./records";
import type { DagRunState, TaskState } from "./states";

/**
 * Airflow lets an operator mark any task instance success, failed or skipped (Airflow 3's PATCH
 * `new_state` accepts exactly these), so those three targets are reachable from every state; the rows
 * below list them anyway so the table reads whole.
 */
const MANUAL = ["success", "failed", "skipped"] as const;

/**
 * Task-instance transitions (from → allowed targets), after Airflow's scheduler and task runner:
 * - none: the scheduler decides per trigger rule (scheduled | skipped | upstream_failed); removed when the
 *   task is gone from the run's DAG version.
 * - scheduled: dispatch queues it; inline tasks go straight to running; a failed dispatch fails it;
 *   skipped/upstream_failed if its upstreams were re-marked; none (clear); removed.
 * - queued: the agent starts it (running) or a fast agent reports the end first (success | failed |
 *   skipped); a queue timeout retries (up_for_retry) or hands it back (scheduled); none (clear).
 * - running: success | failed | skipped | up_for_retry (a runner that knows it is retriable); none (clear
 *   while running: the old try is abandoned and its reports are refused by the try_number guard); queued
 *   when a try its upstream's end started for a warm agent could not be launched (nothing runs it: it goes
 *   back to be dispatched, its start undone; DispatchStep.startOnHandOff).
 * - failed: up_for_retry (the planner, while retries remain); none (clear).
 * - up_for_retry: none once the retry delay has passed (the planner resets it with try_number + 1 so the
 *   trigger rule is evaluated afresh); removed.
 * - success, skipped, upstream_failed, removed: none (clear), plus manual marking.
 * - scheduled → deferred: a sensor the control plane checks (time, file, http, sql, external task) waits
 *   without a process or a slot; deferred → success (the check passed), failed (timeout, or a check that
 *   cannot run: the planner retries it while retries remain) or skipped (timeout with soft_fail), none
 *   (clear), removed.
 * - running → up_for_reschedule: a user check (bash, ts) in mode reschedule said "not yet"; its try ends
 *   holding no slot and keeps its try_number; up_for_reschedule → scheduled when its next check is due (the
 *   sensor poller), none (clear), removed.
 */
export const TASK_TRANSITIONS: Readonly<Record<TaskState, ReadonlySet<TaskState>>> = {
  none: new Set<TaskState>(["scheduled", "upstream_failed", "removed", ...MANUAL]),
  scheduled: new Set<TaskState>(["queued", "running", "deferred", "none", "upstream_failed", "removed", ...MANUAL]),
  queued: new Set<TaskState>(["running", "scheduled", "none", "up_for_retry", ...MANUAL]),
  running: new Set<TaskState>(["up_for_retry", "up_for_reschedule", "queued", "none", ...MANUAL]),
  failed: new Set<TaskState>(["up_for_retry", "none", ...MANUAL]),
  up_for_retry: new Set<TaskState>(["none", "removed", ...MANUAL]),
  success: new Set<TaskState>(["none", ...MANUAL]),
  skipped: new Set<TaskState>(["none", ...MANUAL]),
  upstream_failed: new Set<TaskState>(["none", ...MANUAL]),
  removed: new Set<TaskState>(["none", ...MANUAL]),
  up_for_reschedule: new Set<TaskState>(["scheduled", "none", "removed", ...MANUAL]),
  deferred: new Set<TaskState>(["none", "removed", ...MANUAL]),
};

/**
 * Dag-run transitions: queued → running when the scheduler starts it (or straight to a terminal state
 * when every task was already finished or marked); running → queued when it is cleared; success and
 * failed may be marked into each other or cleared back to queued (rerun), as in Airflow.
 */
export const DAG_RUN_TRANSITIONS: Readonly<Record<DagRunState, ReadonlySet<DagRunState>>> = {
  queued: new Set<DagRunState>(["running", "success", "failed"]),
  running: new Set<DagRunState>(["queued", "success", "failed"]),
  success: new Set<DagRunState>(["queued", "failed"]),
  failed: new Set<DagRunState>(["queued", "success"]),
};

/** Whether a task instance may move from `from` to `to`. Same state → false (not a transition). */
export function canTransition(from: TaskState, to: TaskState): boolean {
  return from !== to && (TASK_TRANSITIONS[from]?.has(to) ?? false);
}

/** Whether a dag run may move from `from` to `to`. Same state → false (not a transition). */
export function canTransitionDagRun(from: DagRunState, to: DagRunState): boolean {
  return from !== to && (DAG_RUN_TRANSITIONS[from]?.has(to) ?? false);
}

/**
 * Throws IllegalTransitionError unless the task-instance transition is allowed.
 *
 * @example assertTransition("running", "success") // ok
 */
export function assertTransition(from: TaskState, to: TaskState): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}

/** Throws IllegalTransitionError (naming the dag run) unless the run transition is allowed. */
export function assertDagRunTransition(from: DagRunState, to: DagRunState): void {
  if (!canTransitionDagRun(from, to)) throw new IllegalTransitionError(from, to, "dag run");
}

/**
 * The record a store holds once `t` applied to `ti` at `now`, as both stores' UPDATE writes it: the state and
 * updated_at, each field the patch sets (text as stored: storableText), wait_reason cleared unless the patch sets
 * it. The scheduler keeps its copy of a large run current with its own writes this way (live-snapshots.ts)
 * instead of reading back thousands of rows it has just written; the store contract holds both stores to it.
 */
export function transitioned<T extends TaskInstanceRecord>(ti: T, t: TaskTransition, now: Date): T {
  const next: T = { ...ti, state: t.to, updated_at: now, wait_reason: null };
  const patch = t.patch;
  if (patch)
    for (const key of Object.keys(patch) as (keyof TaskInstancePatch)[]) {
      const v = patch[key];
      if (v !== undefined) (next as Record<string, unknown>)[key] = typeof v === "string" ? storableText(v) : v;
    }
  return next;
}

/**
 * What a running try's failure is written as: up_for_retry while it has retries left (Airflow's handle_failure),
 * else failed. Written so at once, no reader (the API, the event stream, a webhook) sees a try that will be
 * retried as failed for the moment until the planner moved it. `final` (a sensor's timeout) spends no retry.
 *
 * @example failedTryState({ try_number: 1, max_tries: 2 }) // "up_for_retry"
 */
export function failedTryState(ti: { try_number: number; max_tries: number }, final = false): "failed" | "up_for_retry" {
  return !final && ti.try_number <= ti.max_tries ? "up_for_retry" : "failed";
}
