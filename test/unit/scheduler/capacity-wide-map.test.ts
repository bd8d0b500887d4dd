/**
 * A 1,024-wide map does not starve other DAGs: selectDispatchable already bounds what one DAG takes per tick
 * (its max_active_tasks, default 16, and the task's max_active_tis_per_dag) under global parallelism, and
 * fairOrder interleaves teams. No separate per-tick cap for mapped instances is needed; these tables show it.
 */
import { describe, expect, test } from "bun:test";
import type { TaskInstanceRecord } from "../../../src/domain";
import { selectDispatchable, type DispatchCandidate } from "../../../src/scheduler";
import { at, dag, tis } from "./helpers";

const base = tis(dag([{ task_id: "each", expand: { x: [1] } }]))[0]!;

/** `n` scheduled instances of a mapped task of `dagId` (team `team`), its run queued at second `queued`. */
function mapped(dagId: string, n: number, opts: { team?: string; queued?: number; maxActiveTasks?: number; weight?: number } = {}) {
  return Array.from(
    { length: n },
    (_, i): DispatchCandidate => ({
      ti: {
        ...base,
        id: dagId.length * 100_000 + i,
        dag_id: dagId,
        team: opts.team ?? "default",
        map_index: i,
        state: "scheduled",
        priority_weight: opts.weight ?? 1,
      } as TaskInstanceRecord,
      runQueuedAt: at(opts.queued ?? 0),
      maxActiveTasks: opts.maxActiveTasks ?? 16,
    }),
  );
}

function countByDag(cs: DispatchCandidate[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of cs) counts[c.ti.dag_id] = (counts[c.ti.dag_id] ?? 0) + 1;
  return counts;
}

describe("a 1,024-wide map beside other DAGs", () => {
  test.each<[string, DispatchCandidate[], Record<string, number>]>([
    [
      "the map's DAG takes its max_active_tasks (16); a later DAG gets its slots in the same tick",
      [...mapped("wide", 1024), ...mapped("small", 3, { queued: 60 })],
      { wide: 16, small: 3 },
    ],
    [
      "another team is served first while the map's team holds slots, even when the map's DAG allows 1,024",
      [...mapped("wide", 1024, { team: "a", maxActiveTasks: 1024 }), ...mapped("small", 3, { team: "b", queued: 60 })],
      { wide: 29, small: 3 },
    ],
    [
      "in one team, a DAG allowing 1,024 fills parallelism by priority, as in Airflow: a higher priority_weight goes first",
      [...mapped("wide", 1024, { maxActiveTasks: 1024 }), ...mapped("small", 3, { queued: 60, weight: 10 })],
      { small: 3, wide: 29 },
    ],
  ])("%s", (_, candidates, expected) => {
    const { dispatch, waiting } = selectDispatchable(candidates, { parallelism: 32, running: 0, runningByDag: new Map() });
    expect(countByDag(dispatch)).toEqual(expected);
    expect(dispatch.length + waiting.length).toBe(candidates.length);
  });
});
