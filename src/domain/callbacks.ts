/**
 * Which callbacks a lifecycle change calls (pure), and when a run's deadline falls. Airflow's rules: a task
 * calls on_execute_callback when a try starts running, on_success / on_failure when it ends so,
 * on_retry when a failed try will be retried; a DAG calls its on_success / on_failure when a run ends.
 * A task whose upstream failed or that was skipped calls nothing (as in Airflow). A failed try that the
 * planner will retry (try_number <= retries) calls on_retry when it becomes up_for_retry, not on_failure.
 * An empty task never runs: its success calls on_execute_callback, then on_success_callback (Airflow executes an
 * EmptyOperator that has either, so both are called).
 */
import { CALLBACK_KINDS, callbackList, type CallbackKind } from "./callback-kinds";
import type { CallbackSpec, DeadlineSpec } from "./callback-spec";
import type { DagSpec } from "./dag-spec";
import { taskOfSpec } from "./task-lookup";
import type { DagRunState, TaskState } from "./states";

/** A change callbacks may react to: a task instance's new state, or a run's. */
export type CallbackTrigger = { task_id: string; state: TaskState; try_number: number } | { task_id?: undefined; state: DagRunState };

export interface SelectedCallback {
  kind: CallbackKind;
  /** The task whose field it is; null for the DAG's own (run) callbacks and deadlines. */
  task_id: string | null;
  callback: CallbackSpec;
  /** Its place in the field's list (for logs: "on_failure_callback[1]"). */
  index: number;
}

const TASK_KIND: Partial<Record<TaskState, CallbackKind>> = {
  running: "on_execute_callback",
  success: "on_success_callback",
  failed: "on_failure_callback",
  up_for_retry: "on_retry_callback",
};

/** Task states that may call a callback: events in other states need no lookup at all. */
export const TASK_CALLBACK_STATES: ReadonlySet<TaskState> = new Set(Object.keys(TASK_KIND) as TaskState[]);

const RUN_KIND: Partial<Record<DagRunState, CallbackKind>> = {
  success: "on_success_callback",
  failed: "on_failure_callback",
};

export function selectCallbacks(spec: DagSpec, trigger: CallbackTrigger): SelectedCallback[] {
  if (trigger.task_id === undefined) {
    const kind = RUN_KIND[trigger.state as DagRunState];
    if (kind !== "on_success_callback" && kind !== "on_failure_callback") return [];
    return callbackList(spec[kind]).map((callback, index) => ({ kind, task_id: null, callback, index }));
  }
  const kind = TASK_KIND[trigger.state as TaskState];
  const task = kind && kind !== "deadline" ? taskOfSpec(spec, trigger.task_id) : undefined;
  if (!kind || kind === "deadline" || !task) return [];
  if (trigger.state === "failed" && trigger.try_number <= task.retries) return [];
  const kinds = task.operator === "empty" && kind === "on_success_callback" ? (["on_execute_callback", kind] as const) : [kind];
  return kinds.flatMap((k) => callbackList(task[k]).map((callback, index) => ({ kind: k, task_id: task.task_id, callback, index })));
}

/** Whether any task of the DAG has a callback: without one, no task instance's change calls anything. */
export function hasTaskCallbacks(spec: DagSpec): boolean {
  return spec.tasks.some((task) => CALLBACK_KINDS.some((kind) => callbackList(task[kind]).length > 0));
}

/** When a run misses its deadline: `after` seconds past its logical date (queued_at for a run without one) or its queued_at. */
export function deadlineAt(deadline: Pick<DeadlineSpec, "after" | "reference">, run: { logical_date: Date | null; queued_at: Date }): Date {
  const from = deadline.reference === "logical_date" ? (run.logical_date ?? run.queued_at) : run.queued_at;
  return new Date(from.getTime() + deadline.after * 1000);
}
