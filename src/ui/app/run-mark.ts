/**
 * What marking a whole run changes, for the Mark dialog's preview: Airflow's PATCH dagRun has no dry run (its
 * task instances' PATCH has one, which the dialog uses), so the preview applies the rules of the server's
 * planRunMark (src/scheduler/mark.ts; test/unit/ui/run-mark.test.ts holds the two together) to the run's task
 * instances as just read. Pure.
 */

const FINISHED = new Set(["success", "failed", "upstream_failed", "skipped", "removed"]);

export interface MarkableInstance {
  task_id: string;
  map_index?: number | null;
  state: string | null;
}

/**
 * The instances a run mark changes and the state each gets: success makes every one success (those of tasks the
 * run's DAG version still has); failed fails the running ones and skips the unfinished; queued changes none (the
 * run is planned again).
 */
export function runMarkChanges<T extends MarkableInstance>(
  tis: readonly T[],
  state: string,
  taskIds: ReadonlySet<string> | null = null,
): { ti: T; to: string }[] {
  const out: { ti: T; to: string }[] = [];
  for (const ti of tis) {
    const s = ti.state ?? "none";
    if (state === "success") {
      if (s !== "success" && (!taskIds || taskIds.has(ti.task_id))) out.push({ ti, to: "success" });
    } else if (state === "failed") {
      if (s === "running") out.push({ ti, to: "failed" });
      else if (!FINISHED.has(s)) out.push({ ti, to: "skipped" });
    }
  }
  return out;
}
