/** Task-instance and dag-run states, named exactly as Airflow names them. */

export const TASK_STATES = [
  "none",
  "scheduled",
  "queued",
  "running",
  "success",
  "failed",
  "up_for_retry",
  "upstream_failed",
  "skipped",
  "removed",
  // A sensor between checks, holding no slot: `deferred` is re-checked by the control plane (docs/sensors.md);
  // `up_for_reschedule` is a user check (bash, ts) in mode reschedule between two tries of its check.
  "up_for_reschedule",
  "deferred",
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** States after which a task instance never runs again on its own (a retry is up_for_retry, not terminal). */
export const TERMINAL_TASK_STATES: ReadonlySet<TaskState> = new Set(["success", "failed", "upstream_failed", "skipped", "removed"]);

export const DAG_RUN_STATES = ["queued", "running", "success", "failed"] as const;
export type DagRunState = (typeof DAG_RUN_STATES)[number];

export const TERMINAL_DAG_RUN_STATES: ReadonlySet<DagRunState> = new Set(["success", "failed"]);

export const isTerminalTaskState = (s: TaskState): boolean => TERMINAL_TASK_STATES.has(s);
export const isTerminalDagRunState = (s: DagRunState): boolean => TERMINAL_DAG_RUN_STATES.has(s);

/** Several task instances' states counted, in first-seen order: "[success×2, failed×1]" (mapped instances in notes). */
export function stateTally(states: readonly TaskState[]): string {
  const counts = new Map<TaskState, number>();
  for (const s of states) counts.set(s, (counts.get(s) ?? 0) + 1);
  return `[${[...counts].map(([s, n]) => `${s}×${n}`).join(", ")}]`;
}
