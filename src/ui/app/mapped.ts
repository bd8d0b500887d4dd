/**
 * A mapped task's instances as one grid cell (pure): the grid and the task panel show one task instance per
 * task and run, so a mapped task's instances are folded into one that carries their count, their states
 * counted, and the state that matters most (still moving, then failed, then the rest), as Airflow's grid
 * summarises mapped tasks. Instances a re-expansion removed are left out while any other remains.
 */
import type { TaskInstance, TaskInstanceState } from "./types";

/** Most telling first: a cell shows the first of these that any instance is in. */
const PRECEDENCE = [
  "running",
  "queued",
  "scheduled",
  "up_for_retry",
  "up_for_reschedule",
  "deferred",
  "failed",
  "upstream_failed",
  "success",
  "skipped",
];
const rank = (s: string | null) => {
  const i = s === null ? -1 : PRECEDENCE.indexOf(s);
  return i < 0 ? PRECEDENCE.length : i;
};

/** One task instance per task_id; a mapped task's (map_index >= 0) folded, with `mapped_count` and `mapped_states`. */
export function byTask<T extends TaskInstanceState>(items: readonly T[]): Map<string, T> {
  const out = new Map<string, T>();
  const instances = new Map<string, T[]>();
  for (const ti of items) {
    if ((ti.map_index ?? -1) < 0) out.set(ti.task_id, ti);
    else instances.set(ti.task_id, [...(instances.get(ti.task_id) ?? []), ti]);
  }
  for (const [taskId, all] of instances) {
    const live = all.filter((t) => t.state !== "removed");
    // Cleared whole, the task waits at map_index -1 to expand again: that instance is the cell.
    if (!live.length && out.has(taskId)) continue;
    const shown = live.length ? live : all;
    const telling = shown.reduce((best, t) => (rank(t.state) < rank(best.state) ? t : best));
    const counts = new Map<string, number>();
    for (const t of [...shown].sort((a, b) => rank(a.state) - rank(b.state)))
      counts.set(t.state ?? "none", (counts.get(t.state ?? "none") ?? 0) + 1);
    out.set(taskId, { ...telling, mapped_count: shown.length, mapped_states: Object.fromEntries(counts) });
  }
  return out;
}

/** A folded cell's states as people read them: `success×48, running×2`. */
export function describeMapped(ti: Pick<TaskInstance, "mapped_states">): string {
  return Object.entries(ti.mapped_states ?? {})
    .map(([s, n]) => `${s}×${n}`)
    .join(", ");
}
