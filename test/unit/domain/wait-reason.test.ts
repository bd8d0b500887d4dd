/** Every kind of wait renders exactly the note users have always seen (the API and UI show it as is). */
import { describe, expect, test } from "bun:test";
import { renderWaitReason, type WaitReason, type WaitReasonKind } from "../../../src/domain";

const cases: [WaitReason, string][] = [
  [{ kind: "parallelism", parallelism: 32, running: 32 }, "parallelism (32) reached: 32 task instances queued or running"],
  [{ kind: "max_active_tasks", dag_id: "etl", max_active_tasks: 16 }, "max_active_tasks (16) reached for DAG etl"],
  [
    { kind: "max_active_tis_per_dag", dag_id: "etl", task_id: "each", max_active_tis_per_dag: 4 },
    "max_active_tis_per_dag (4) reached for task each of DAG etl",
  ],
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
  [
    { kind: "team_quota", team: "data-eng", quota: "max_running_tasks", limit: 10, used: 10 },
    "team data-eng reached its quota max_running_tasks=10 (10 queued or running); it waits until the team's tasks finish or an admin raises the quota",
  ],
  [
    { kind: "team_quota", team: "ml", quota: "max_pool_slots", limit: 8, used: 7, needed: 2 },
    "team ml reached its quota max_pool_slots=8 (7 pool slots held by queued or running tasks, this task needs 2); it waits until the team's tasks finish or an admin raises the quota",
  ],
  [
    { kind: "team_quota", team: "web", quota: "max_inline_requests", limit: 5, used: 5 },
    "team web reached its quota max_inline_requests=5 (5 inline requests in flight); it waits until the team's tasks finish or an admin raises the quota",
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
      max_active_tis_per_dag: 1,
      pool_missing: 1,
      pool_too_small: 1,
      pool_full: 1,
      depends_on_past: 1,
      team_quota: 1,
    } satisfies Record<WaitReasonKind, 1>;
    expect(new Set<string>(cases.map(([r]) => r.kind))).toEqual(new Set(Object.keys(every)));
  });
});
