/**
 * Marking task instances and runs by hand (Airflow's "mark success/failed"), pure: what one mark writes.
 * The API reads the run, these functions decide, the store applies it all in one transaction
 * (applyOperatorChange), and the scheduler is woken to plan the run again.
 */
import {
  ConflictError,
  NotFoundError,
  isTerminalDagRunState,
  isTerminalTaskState,
  type DagRunState,
  type DagSpec,
  type TaskState,
  type DagRunRecord,
  type OperatorChange,
  type TaskInstanceRecord,
  type TaskTransition,
  type TaskUserNote,
} from "../domain";
import { clearFor, outdatedRunNote, relatedTaskIds, requeueAfterClear, selectClearTargets } from "./clear";
import { finalizeRun } from "./planner";

/** What PATCH …/taskInstances/{task_id} may set (Airflow 3 accepts exactly these). */
export const MARKABLE_TASK_STATES = ["success", "failed", "skipped"] as const;
export type MarkableTaskState = (typeof MARKABLE_TASK_STATES)[number];
/** What PATCH …/dagRuns/{dag_run_id} may set. */
export const MARKABLE_RUN_STATES = ["queued", "success", "failed"] as const;
export type MarkableRunState = (typeof MARKABLE_RUN_STATES)[number];

export interface MarkInput {
  run: DagRunRecord;
  tis: readonly TaskInstanceRecord[];
  /** The run's pinned DAG version. */
  spec: Pick<DagSpec, "tasks">;
}

/**
 * One task instance's mark, as Airflow's set_state writes it: a finished try keeps its dates (only a missing one is
 * set to now), and a mark to failed is final: its retries are spent (max_tries drops to the tries made), so the
 * planner does not turn it into up_for_retry, neither now nor when a clear of another task re-plans the run.
 */
function markTransition(ti: TaskInstanceRecord, to: TaskState, now: Date): TaskTransition {
  const patch = {
    start_date: ti.start_date ?? now,
    end_date: ti.end_date ?? now,
    ...(to === "failed" ? { max_tries: ti.try_number - 1 } : {}),
  };
  return { id: ti.id, from: [ti.state], to, try_number: ti.try_number, patch };
}

/**
 * A user's note on a task instance, as written: blank text (what an emptied note editor sends) clears it like null,
 * so the system's reason shows again rather than an empty note hiding it. Pure.
 *
 * @example userNote(7, "  ") // { id: 7, note: null }
 */
export function userNote(id: number, note: string | null): TaskUserNote {
  return { id, note: note === null || note.trim() === "" ? null : note };
}

export interface TaskMarkOptions {
  /** The user's note for the marked task instance (userNote); absent leaves it alone. */
  note?: string | null;
  /** Also mark every task upstream / downstream of it (transitively) that is not in `state` yet. */
  upstream?: boolean;
  downstream?: boolean;
  /** Which instance of a mapped task (0..n-1); -1, the default, is an unmapped task's. Its siblings are left alone. */
  mapIndex?: number;
}

/**
 * Marks a task instance, as Airflow's set_task_instance_state does: it takes the state (a running one's
 * agent is told to stop at its next heartbeat), relatives too on request, and the task's downstream task
 * instances in failed or upstream_failed are cleared so the scheduler evaluates them again. The run
 * follows: a finished run with something cleared is queued again; otherwise a finished run whose outcome
 * the mark changes (a failed leaf marked success) takes the new outcome. ConflictError when the task
 * instance is already in `state`; NotFoundError when the run has no such task instance.
 *
 * @example planTaskMark({ run, tis, spec }, "load", "success", now) // { transitions: [load → success], clears: [...] }
 */
export function planTaskMark(
  input: MarkInput,
  taskId: string,
  state: MarkableTaskState,
  now: Date,
  opts: TaskMarkOptions = {},
): OperatorChange {
  const { run, tis, spec } = input;
  const mapIndex = opts.mapIndex ?? -1;
  const ti = tis.find((t) => t.task_id === taskId && t.map_index === mapIndex);
  if (!ti) throw new NotFoundError(`task ${taskId} has no task instance with map_index ${mapIndex} in run ${run.run_id}`);
  if (ti.state === state) throw new ConflictError(`Task id ${taskId} is already in ${state} state`);
  const related = relatedTaskIds(spec, [taskId], { upstream: opts.upstream, downstream: opts.downstream });
  const marked = tis.filter((t) => t.id === ti.id || (t.task_id !== taskId && related.has(t.task_id) && t.state !== state));
  const transitions = marked.map((t) => markTransition(t, state, now));
  const tasks = new Map(spec.tasks.map((t) => [t.task_id, t]));
  const exclude = marked.map((t) => t.task_id);
  const clears = selectClearTargets(spec, tis, { task_ids: [taskId], include_downstream: true, only_failed: true, exclude })
    .map((d) => clearFor(d, tasks.get(d.task_id)))
    .filter((c) => c !== null);
  const change: OperatorChange = { transitions, clears, ...(opts.note !== undefined && { user_notes: [userNote(ti.id, opts.note)] }) };
  if (!isTerminalDagRunState(run.state)) return change;
  if (clears.length) return { ...change, runs: [requeueAfterClear(run)!] };
  const markedIds = new Set(marked.map((t) => t.id));
  const after = tis.map((t) => ({
    task_id: t.task_id,
    state: markedIds.has(t.id) ? state : t.state,
    try_number: t.try_number,
    max_tries: markedIds.has(t.id) && state === "failed" ? t.try_number - 1 : t.max_tries,
  }));
  const outcome = finalizeRun({ spec, tis: after });
  return outcome && outcome !== run.state
    ? { ...change, runs: [{ id: run.id, from: [run.state], to: outcome, ...outdatedRunNote(run) }] }
    : change;
}

/** Task-instance states a run marked failed fails (they are working) rather than skips. */
const RUNNING: ReadonlySet<TaskState> = new Set(["running"]);

/**
 * Marks a run, as Airflow 3's PATCH dagRun does:
 * - success: every task instance of the run's tasks not in success becomes success, the run success;
 * - failed: running task instances become failed (their agents stop), the other unfinished ones (none,
 *   scheduled, queued, up_for_retry) skipped, the run failed;
 * - queued: only the run changes (the scheduler plans it again).
 * Marking a run into the state it is in re-applies the task-instance part and leaves the run's dates alone.
 */
export function planRunMark(input: MarkInput, state: MarkableRunState, now: Date, note?: string | null): OperatorChange {
  const { run, tis, spec } = input;
  const inSpec = new Set(spec.tasks.map((t) => t.task_id));
  const transitions: TaskTransition[] = [];
  if (state === "success") {
    for (const ti of tis) if (inSpec.has(ti.task_id) && ti.state !== "success") transitions.push(markTransition(ti, "success", now));
  } else if (state === "failed") {
    for (const ti of tis) {
      if (RUNNING.has(ti.state)) transitions.push(markTransition(ti, "failed", now));
      else if (!isTerminalTaskState(ti.state)) transitions.push(markTransition(ti, "skipped", now));
    }
  }
  const runChange =
    run.state !== state || note !== undefined
      ? [{ id: run.id, from: [run.state], to: state as DagRunState, ...(note !== undefined ? { note } : {}) }]
      : [];
  return { transitions, runs: runChange };
}
