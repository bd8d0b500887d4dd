/** max_active_tis_per_dag in selectDispatchable: a task's instances across runs, mapped ones included. */
import { describe, expect, test } from "bun:test";
import { renderWaitReason, type TaskInstanceRecord } from "../../../src/domain";
import { selectDispatchable, type DispatchCandidate } from "../../../src/scheduler";
import { taskKey } from "../../../src/scheduler/capacity";
import { dag, run, tis } from "./helpers";

const spec = dag([{ task_id: "each", expand: { x: [1, 2, 3, 4] } }, { task_id: "other" }]);

/** Four instances of `each` (map_index 0..3) and one `other`, all scheduled; `each` limited to `limit`. */
function candidates(limit: number | undefined): DispatchCandidate[] {
  const base = tis(spec);
  const each = base.find((t) => t.task_id === "each")!;
  const rows: TaskInstanceRecord[] = [
    ...[0, 1, 2, 3].map((i) => ({ ...each, id: 10 + i, map_index: i, state: "scheduled" as const })),
    { ...base.find((t) => t.task_id === "other")!, state: "scheduled" as const },
  ];
  return rows.map((ti) => ({
    ti,
    runQueuedAt: run().queued_at,
    maxActiveTasks: 16,
    ...(ti.task_id === "each" && limit !== undefined ? { maxActiveTisPerDag: limit } : {}),
  }));
}

const picked = (cs: DispatchCandidate[]) => cs.map((c) => (c.ti.map_index < 0 ? c.ti.task_id : `${c.ti.task_id}[${c.ti.map_index}]`));

describe("max_active_tis_per_dag", () => {
  test.each<[string, number | undefined, number, string[]]>([
    ["no limit: every instance", undefined, 0, ["each[0]", "each[1]", "each[2]", "each[3]", "other"]],
    ["limit 2, none active: two instances; other tasks are not held", 2, 0, ["each[0]", "each[1]", "other"]],
    ["limit 2, one active in another run: one more", 2, 1, ["each[0]", "other"]],
    ["limit 2, two active: none", 2, 2, ["other"]],
  ])("%s", (_, limit, active, expected) => {
    const cs = candidates(limit);
    const runningByTask = new Map([[taskKey(cs[0]!.ti), active]]);
    const { dispatch, waiting } = selectDispatchable(cs, { parallelism: 32, running: active, runningByDag: new Map(), runningByTask });
    expect(picked(dispatch)).toEqual(expected);
    for (const w of waiting) expect(renderWaitReason(w.reason)).toBe(`max_active_tis_per_dag (${limit}) reached for task each of DAG etl`);
  });
});
