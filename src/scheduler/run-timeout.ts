/**
 * dagrun_timeout (pure): a running run older than its DAG's dagrun_timeout (seconds since the run started)
 * is failed. Its task instances that are queued, running or deferred (a waiting sensor) are failed (a running agent learns it at its
 * next heartbeat, which answers should_stop); those not started yet (none, scheduled, up_for_retry) are
 * skipped, as Airflow does.
 *
 * @example const t = planRunTimeout(run, tis, spec, now); if (t) { applyTransitions(t.transitions); fail run with t.note }
 */
import type { DagSpec, TaskState, DagRunRecord, TaskInstanceRecord, TaskTransition } from "../domain";

/** When the run times out, or null (no timeout, or not running). */
export function runTimeoutAt(run: DagRunRecord, spec: Pick<DagSpec, "dagrun_timeout">): Date | null {
  if (run.state !== "running" || !run.start_date || !spec.dagrun_timeout) return null;
  return new Date(run.start_date.getTime() + spec.dagrun_timeout * 1000);
}

const STOP: Partial<Record<TaskState, TaskState>> = {
  queued: "failed",
  running: "failed",
  // A waiting sensor's try has started: it fails like a running one.
  deferred: "failed",
  up_for_reschedule: "failed",
  none: "skipped",
  scheduled: "skipped",
  up_for_retry: "skipped",
};

/** The run's timeout decision at `now`: the note for the run and its task-instance transitions; null if not due. */
export function planRunTimeout(
  run: DagRunRecord,
  tis: TaskInstanceRecord[],
  spec: Pick<DagSpec, "dagrun_timeout">,
  now: Date,
): { note: string; transitions: TaskTransition[] } | null {
  const at = runTimeoutAt(run, spec);
  if (!at || at > now) return null;
  const note = `dagrun_timeout (${spec.dagrun_timeout}s) exceeded`;
  const transitions: TaskTransition[] = [];
  for (const ti of tis) {
    const to = STOP[ti.state];
    if (!to) continue;
    transitions.push({ id: ti.id, from: [ti.state], to, try_number: ti.try_number, patch: { end_date: now, note } });
  }
  return { note, transitions };
}
