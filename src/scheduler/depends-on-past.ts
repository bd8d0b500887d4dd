/**
 * depends_on_past, pure (Airflow's PrevDagrunDep): a task with depends_on_past may start only once the same
 * task in the DAG's previous run (by logical_date) succeeded or was skipped. The caller looks the previous
 * run up (store.listPreviousRunStates); these functions decide.
 */
import type { DagSpec, TaskState, WaitReason, DagRunRecord, TaskInstanceRecord } from "../domain";

/** The previous run of the same DAG and its task-instance states; null when there is none. */
export type PreviousRun = { run_id: string; states: ReadonlyMap<string, TaskState> } | null;

/** Previous-run states that let a depends_on_past task go. */
const PAST_OK: ReadonlySet<TaskState> = new Set(["success", "skipped"]);

/**
 * Whether planning this run needs its previous run: it has a logical_date (runs without one, e.g. manual
 * triggers with logical_date null, have no previous run in Airflow 3) and a depends_on_past task still in `none`.
 */
export function needsPreviousRun(
  run: Pick<DagRunRecord, "logical_date">,
  tis: Pick<TaskInstanceRecord, "task_id" | "state">[],
  spec: Pick<DagSpec, "tasks">,
): boolean {
  if (run.logical_date === null) return false;
  const gated = new Set(spec.tasks.filter((t) => t.depends_on_past).map((t) => t.task_id));
  return gated.size > 0 && tis.some((ti) => ti.state === "none" && gated.has(ti.task_id));
}

/**
 * The depends_on_past tasks of a run that must wait, each with why (renderWaitReason says what to do).
 * Not blocked: the first run (no previous run), and a task the previous run did not have (Airflow's
 * ignore_first_depends_on_past, on by default). Only task instances in `none` are considered: a task that
 * already started is past this gate.
 *
 * @example pastBlocks(spec, tis, { run_id: "scheduled__2026-01-01", states: new Map([["load", "failed"]]) })
 *   // Map { "load" => { kind: "depends_on_past", task_id: "load", previous_run_id: "scheduled__2026-01-01", previous_state: "failed" } }
 */
export function pastBlocks(
  spec: Pick<DagSpec, "tasks">,
  tis: Pick<TaskInstanceRecord, "task_id" | "state">[],
  previous: PreviousRun,
): Map<string, WaitReason> {
  const blocked = new Map<string, WaitReason>();
  if (!previous) return blocked;
  const pending = new Set(tis.filter((ti) => ti.state === "none").map((ti) => ti.task_id));
  for (const task of spec.tasks) {
    if (!task.depends_on_past || !pending.has(task.task_id)) continue;
    const before = previous.states.get(task.task_id);
    if (before === undefined || PAST_OK.has(before)) continue;
    blocked.set(task.task_id, { kind: "depends_on_past", task_id: task.task_id, previous_run_id: previous.run_id, previous_state: before });
  }
  return blocked;
}
