/**
 * A tick plans runs that stand alike once and copies the plan (plan-memo.ts): every run must get exactly the
 * plan planRun makes for it. Differential: random DAGs, many runs drawn from a few kinds (so most are copies),
 * with every task state, retries, wait reasons, start dates, a task the version lacks and run states.
 */
import { describe, expect, test } from "bun:test";
import { TASK_STATES, TRIGGER_RULES, type DagRunRecord, type TaskInstanceRecord, type TaskState } from "../../../src/domain";
import { RunPlanMemo } from "../../../src/scheduler/plan-memo";
import { planRun } from "../../../src/scheduler/planner";
import { at, dag, run, tis } from "./helpers";
import { seededRandom as random } from "../../support/seeded-random";

function randomCase(seed: number) {
  const r = random(seed);
  const n = 2 + r.int(6);
  const spec = dag(
    Array.from({ length: n }, (_, i) => ({
      task_id: `t${i}`,
      upstream: [...new Set(Array.from({ length: r.int(3) }, () => (i ? `t${r.int(i)}` : null)).filter((u) => u !== null))],
      trigger_rule: r.pick(TRIGGER_RULES),
      retries: r.int(2),
      retry_delay: r.pick([0, 30]),
    })),
  );
  // A few kinds of run; each run is one of them with its own ids (and now and then one field changed).
  const kind = (): { state: DagRunRecord["state"]; tis: TaskInstanceRecord[] } => {
    const list = tis(spec).map((ti) => {
      const state: TaskState = r.next() < 0.5 ? "none" : r.pick(TASK_STATES);
      return {
        ...ti,
        state,
        try_number: 1 + r.int(2),
        start_date: r.next() < 0.3 ? at(r.int(3)) : null,
        end_date: r.next() < 0.3 ? at(r.int(60)) : null,
        wait_reason: r.next() < 0.2 ? ("pool_full" as const) : null,
      };
    });
    if (r.next() < 0.2) list.push({ ...list[0]!, id: 99, task_id: "gone", state: r.pick(["none", "scheduled", "success"] as const) });
    return { state: r.pick(["queued", "running", "running", "success"] as const), tis: list };
  };
  const kinds = Array.from({ length: 1 + r.int(3) }, kind);
  const runs = Array.from({ length: 30 }, (_, i) => {
    const k = r.pick(kinds);
    const own = k.tis.map((ti, j) => ({ ...ti, id: 1000 * (i + 1) + j, dag_run_id: i + 1 }));
    if (r.next() < 0.15) {
      const j = r.int(own.length);
      own[j] = { ...own[j]!, state: r.pick(TASK_STATES), start_date: r.next() < 0.5 ? null : at(1) };
    }
    return { run: { ...run(k.state), id: i + 1 }, tis: own };
  });
  return { spec, runs };
}

describe("planning runs that stand alike once (RunPlanMemo)", () => {
  test("every run gets the plan planRun makes for it, over 400 random DAGs", () => {
    const now = at(100);
    let copied = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const { spec, runs } = randomCase(seed);
      const memo = new RunPlanMemo(now);
      for (const { run: r, tis: list } of runs) {
        const got = memo.plan({ run: r, tis: list, spec });
        const want = planRun({ run: r, tis: list, spec }, now);
        expect({ seed, run: r.id, plan: got }).toEqual({ seed, run: r.id, plan: want });
        if (got.transitions.length && got.transitions[0] !== want.transitions[0]) copied++;
      }
    }
    expect(copied).toBeGreaterThan(1000); // most runs were copies, not planned again
  });

  test("a copy shares nothing with the plan it was copied from", () => {
    const spec = dag([{ task_id: "a" }, { task_id: "b", upstream: ["a"] }]);
    const memo = new RunPlanMemo(at(1));
    const first = memo.plan({ run: run("queued"), tis: tis(spec, { a: { state: "none", wait_reason: "pool_full" } }), spec });
    const other = tis(spec, { a: { state: "none", wait_reason: "pool_full" } }).map((ti) => ({ ...ti, id: ti.id + 10, dag_run_id: 2 }));
    const second = memo.plan({ run: { ...run("queued"), id: 2 }, tis: other, spec });
    expect(second.transitions).toEqual([{ id: 11, from: ["none"], to: "scheduled", try_number: 1, patch: { note: null } }]);
    expect(second.run).toEqual({ from: ["queued"], to: "running" });
    expect(second.transitions[0]!.patch).not.toBe(first.transitions[0]!.patch);
    expect(second.transitions[0]!.from).not.toBe(first.transitions[0]!.from);
    expect(second.run!.from).not.toBe(first.run!.from);
  });

  test("runs with retries, depends_on_past blocks or a changed-task hint are planned on their own", () => {
    const spec = dag([{ task_id: "a", retries: 1, retry_delay: 30 }]);
    const memo = new RunPlanMemo(at(100));
    const failed = (id: number) => tis(spec, { a: { state: "failed", end_date: at(id) } }).map((ti) => ({ ...ti, id }));
    // The same kind of run but for the time it failed: each retry is due at its own time.
    expect(memo.plan({ run: run(), tis: failed(10), spec }).nextWakeAt).toEqual(at(40));
    expect(memo.plan({ run: run(), tis: failed(20), spec }).nextWakeAt).toEqual(at(50));
    const blocked = new Map([
      ["a", { kind: "depends_on_past" as const, task_id: "a", previous_run_id: "r0", previous_state: "failed" as const }],
    ]);
    const none = tis(spec);
    expect(memo.plan({ run: run(), tis: none, spec }).transitions).toHaveLength(1);
    expect(memo.plan({ run: run(), tis: none, spec, blockedByPast: blocked }).transitions).toEqual([]);
  });
});
