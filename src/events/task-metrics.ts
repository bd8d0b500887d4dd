/**
 * Task metrics from the transitions the store applied: task instances by final state and operator, how long
 * a try ran, and how long it waited between queued and running. Counted on the replica that made the write
 * (the store wrapper calls the observer there), so summing over replicas counts each transition once.
 *
 * @example
 * const taskMetrics = registerTaskMetrics(metrics);
 * const store = withStoreEvents(raw, log, onError, taskMetrics.observe);
 */
import { isTerminalTaskState, type TaskTransition } from "../domain";
import type { Metrics } from "../observability";
import type { TransitionObserver } from "./store-events";

export interface TaskObservation {
  /** Seconds from queued to running (a try an agent registered). */
  queuedToRunning?: { operator: string; seconds: number };
  /** A final state; `seconds` when the try had started. */
  finished?: { operator: string; state: string; seconds: number | null };
}

/** What one applied transition tells the metrics (pure). */
export function observeTransition(
  ti: { operator: string; queued_at: Date | null; start_date: Date | null },
  t: Pick<TaskTransition, "from" | "to" | "patch">,
  now: Date,
): TaskObservation {
  const out: TaskObservation = {};
  if (t.to === "running") {
    const started = t.patch?.start_date ?? now;
    if (ti.queued_at && t.from.includes("queued"))
      out.queuedToRunning = { operator: ti.operator, seconds: Math.max(0, (started.getTime() - ti.queued_at.getTime()) / 1000) };
  } else if (isTerminalTaskState(t.to)) {
    const ended = t.patch?.end_date ?? now;
    const seconds = ti.start_date && t.from.includes("running") ? Math.max(0, (ended.getTime() - ti.start_date.getTime()) / 1000) : null;
    out.finished = { operator: ti.operator, state: t.to, seconds };
  }
  return out;
}

export function registerTaskMetrics(metrics: Metrics): { observe: TransitionObserver } {
  const finished = metrics.counter(
    "leoflow_task_instances_finished_total",
    "Task instances that reached a final state, by state and operator.",
    ["state", "operator"],
  );
  const duration = metrics.histogram("leoflow_task_duration_seconds", "How long a try ran, from running to its final state.", ["operator"]);
  const queued = metrics.histogram(
    "leoflow_task_queued_to_running_seconds",
    "How long a try waited between queued and its agent registering (running).",
    ["operator"],
  );
  return {
    observe(ti, t, now) {
      const o = observeTransition(ti, t, now);
      if (o.queuedToRunning) queued.observe({ operator: o.queuedToRunning.operator }, o.queuedToRunning.seconds);
      if (o.finished) {
        finished.inc({ state: o.finished.state, operator: o.finished.operator });
        if (o.finished.seconds !== null) duration.observe({ operator: o.finished.operator }, o.finished.seconds);
      }
    },
  };
}
