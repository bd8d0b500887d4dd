/**
 * The expansion of mapped tasks, after the planner found their upstreams done (RunPlan.expansions): load the
 * XComs each mapping reads, decide with the pure expandTask, then write every decision of the tick in two
 * batches: the expansions (map_index -1 → 0 plus its siblings, one transaction) and the skips and failures
 * (one applyTransitions). The next plan of those runs schedules the new instances.
 */
import {
  expandTask,
  loadMappingSources,
  mappingRefs,
  taskOfSpec,
  type DagRunRecord,
  type DagSpec,
  type TaskInstanceRecord,
  type TaskTransition,
} from "../domain";
import type { SchedulerStore, TaskExpansion } from "../store";

export interface ExpansionRequest {
  run: DagRunRecord;
  spec: DagSpec;
  ti: TaskInstanceRecord;
}

export type ExpansionStore = Pick<SchedulerStore, "getXCom" | "listMappedXComs" | "expandTaskInstances" | "applyTransitions">;

/** Expands what the tick asked for; returns the ids of the runs it changed (to plan again at once). */
export async function expandMappedTasks(
  store: ExpansionStore,
  requests: readonly ExpansionRequest[],
  maxMapLength: number,
  now: Date,
): Promise<number[]> {
  if (requests.length === 0) return [];
  const decided = await Promise.all(
    requests.map(async (r) => {
      const task = taskOfSpec(r.spec, r.ti.task_id)!;
      const sources = await loadMappingSources(store, r.run, r.spec, mappingRefs(task));
      return { r, expansion: expandTask(task, sources, maxMapLength) };
    }),
  );
  const expansions: TaskExpansion[] = [];
  const expandedRuns: number[] = [];
  const transitions: TaskTransition[] = [];
  const transitionRuns: number[] = [];
  for (const { r, expansion } of decided) {
    if (expansion.kind === "instances") {
      expansions.push({ id: r.ti.id, count: expansion.count });
      expandedRuns.push(r.run.id);
      continue;
    }
    // An upstream that pushed nothing is the upstream's failure (Airflow: upstream_failed), not a try of this task.
    const upstream = expansion.kind === "upstream_failed";
    const patch = upstream ? { end_date: now, note: expansion.reason } : { start_date: now, end_date: now, note: expansion.reason };
    // A mapping that cannot expand fails for good, as in Airflow: a retry would read the same XComs.
    if (expansion.kind === "failed") Object.assign(patch, { max_tries: r.ti.try_number - 1 });
    transitions.push({
      id: r.ti.id,
      from: ["none"],
      to: expansion.kind === "empty" ? "skipped" : expansion.kind,
      try_number: r.ti.try_number,
      patch,
    });
    transitionRuns.push(r.run.id);
  }
  const [expanded, applied] = await Promise.all([
    expansions.length ? store.expandTaskInstances(expansions, now) : [],
    transitions.length ? store.applyTransitions(transitions, now) : [],
  ]);
  return [...new Set([...expandedRuns.filter((_, i) => expanded[i]), ...transitionRuns.filter((_, i) => applied[i])])];
}
