/**
 * Why a task instance is not running, as Airflow's TaskDependencyCollectionResponse: one `{name, reason}`
 * per unmet dependency, named as Airflow names its deps. Pure: the route loads what it reads.
 */
import {
  isTerminalTaskState,
  stateTally,
  type DagRunRecord,
  type TaskInstanceRecord,
  type TaskState,
  type WaitReasonKind,
} from "../domain";

export interface TaskDependency {
  name: string;
  reason: string;
}

/** Airflow's dep name for each wait the scheduler records (the reason text is the note rendered from it). */
const WAIT_DEP_NAMES: Record<WaitReasonKind, string> = {
  parallelism: "Executor Slots Available",
  max_active_tasks: "Task Concurrency",
  max_active_tis_per_dag: "Task Instance Concurrency",
  pool_missing: "Pool Slots Available",
  pool_too_small: "Pool Slots Available",
  pool_full: "Pool Slots Available",
  depends_on_past: "Previous Dagrun State",
  team_quota: "Team Quota",
};

/** States an upstream may be in for an all_success downstream to go on. */
const DONE_OK: ReadonlySet<TaskState> = new Set(["success", "skipped"]);

export function taskDependencies(input: {
  ti: TaskInstanceRecord;
  run: DagRunRecord;
  dagPaused: boolean;
  /** The task's upstream task ids in the run's DAG version, and their trigger rule. */
  upstream: string[];
  triggerRule: string;
  /** States of every task instance of the run, by task id: one per instance of a mapped task. */
  states: ReadonlyMap<string, readonly TaskState[]>;
}): TaskDependency[] {
  const { ti, run } = input;
  // Running, queued or finished: nothing holds it back (Airflow lists deps only for what has yet to run).
  if (!["none", "scheduled", "up_for_retry"].includes(ti.state)) return [];
  const deps: TaskDependency[] = [];
  if (input.dagPaused) deps.push({ name: "Dag Not Paused", reason: `Task's DAG '${run.dag_id}' is paused.` });
  if (run.state !== "running")
    deps.push({
      name: "Dagrun Running",
      reason: `Task instance's dagrun was not in the 'running' state but in the state '${run.state}'.`,
    });
  if (ti.state === "up_for_retry")
    deps.push({ name: "Not In Retry Period", reason: "Task is waiting out its retry delay before the next try." });
  const statesOf = (t: string) => input.states.get(t) ?? [];
  const pending = input.upstream.filter((t) => statesOf(t).length === 0 || statesOf(t).some((s) => !isTerminalTaskState(s)));
  const failed = input.upstream.filter((t) => statesOf(t).some((s) => isTerminalTaskState(s) && !DONE_OK.has(s)));
  if (pending.length)
    deps.push({
      name: "Trigger Rule",
      reason: `Task's trigger rule '${input.triggerRule}' requires its upstream tasks to finish; still waiting for: ${pending.map((t) => named(t, statesOf(t))).join(", ")}.`,
    });
  else if (failed.length && input.triggerRule === "all_success")
    deps.push({
      name: "Trigger Rule",
      reason: `Task's trigger rule 'all_success' requires all upstream tasks to succeed; not succeeded: ${failed.map((t) => named(t, statesOf(t))).join(", ")}.`,
    });
  if (ti.wait_reason) deps.push({ name: WAIT_DEP_NAMES[ti.wait_reason], reason: ti.note ?? ti.wait_reason });
  return deps;
}

/** An upstream as the reason names it: its id, and for a mapped one its instances counted by state, as the planner's notes do. */
function named(taskId: string, states: readonly TaskState[]): string {
  return states.length <= 1 ? taskId : `${taskId}=${stateTally(states)}`;
}
