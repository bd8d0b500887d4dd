/** Every kind of wait renders exactly the note users have always seen (the API and UI show it as is). */
import { describe, expect, test } from "bun:test";
import { renderWaitReason, type WaitReason, type WaitReasonKind } from "../../../src/domain";

const cases: [WaitReason, string][] = [
  [{ kind: "parallelism", parallelism: 32, running: 32 }, "parallelism (32) reached: 32 task instances queued or running"],
  [{ kind: "max_active_tasks", dag_id: "etl", max_active_tasks: 16 }, "max_active_tasks (16) reached for DAG etl"],
  [
    { kind: "pool_missing", pool: "gpu" },
    "pool gpu does not exist; create it with POST /api/v2/pools or set the task's pool to an existing one",
  ],
  [
    { kind: "pool_too_small", pool: "tiny", needed: 5, total: 4 },
    "task needs 5 slots but pool tiny has only 4; lower pool_slots or enlarge the pool",
  ],
  [{ kind: "pool_full", pool: "gpu", needed: 1, open: 0, total: 2 }, "waiting for a slot in pool gpu (0 of 2 open)"],
  [{ kind: "pool_full", pool: "gpu", needed: 2, open: 1, total: 4 }, "waiting for 2 slots in pool gpu (1 of 4 open)"],
  [{ kind: "pool_full", pool: "gpu", needed: 1, open: 0 }, "waiting for a slot in pool gpu (0 open)"],
  [
    { kind: "depends_on_past", task_id: "load", previous_run_id: "jan", previous_state: "failed" },
    "depends_on_past: waiting for load in the previous run jan (failed) to succeed or be skipped; clear or mark that task instance to let this run go on",
  ],
];

describe("renderWaitReason", () => {
  test.each(cases)("%o", (reason, note) => {
    expect(renderWaitReason(reason)).toBe(note);
  });

  test("every kind has a case above", () => {
    // A kind added to WaitReason without a case here fails to type-check.
    const every = {
      parallelism: 1,
      max_active_tasks: 1,
      pool_missing: 1,
      pool_too_small: 1,
      pool_full: 1,
      depends_on_past: 1,
    } satisfies Record<WaitReasonKind, 1>;
    expect(new Set<string>(cases.map(([r]) => r.kind))).toEqual(new Set(Object.keys(every)));
  });
});
