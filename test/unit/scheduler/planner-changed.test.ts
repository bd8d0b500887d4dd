/**
 * planRun with changedTasks (a large held run planned from its changes) must decide exactly what a plan of the
 * whole run decides. Differential: random DAGs and states; a whole-run plan is written (some transitions lose
 * their race to another writer), more task instances change, and then the plan from the changes alone is
 * compared with the plan of everything.
 */
import { describe, expect, test } from "bun:test";
import { TASK_STATES, TRIGGER_RULES, type TaskInstanceRecord, type TaskState } from "../../../src/domain";
import { planRun } from "../../../src/scheduler/planner";
import { at, dag, run, tis } from "./helpers";
import { seededRandom as random } from "../../support/seeded-random";

function randomCase(seed: number) {
  const r = random(seed);
  const n = 2 + r.int(7);
  const spec = dag(
    Array.from({ length: n }, (_, i) => ({
      task_id: `t${i}`,
      upstream: [...new Set(Array.from({ length: r.int(3) }, () => (i ? `t${r.int(i)}` : null)).filter((u) => u !== null))],
      trigger_rule: r.pick(TRIGGER_RULES),
      retries: r.int(3),
      retry_delay: r.pick([0, 30, 90]),
      // Now and then an empty task: it succeeds in the plan that schedules it, and its downstream moves with it.
      ...(r.next() < 0.25 ? { operator: "empty", bash_command: undefined } : {}),
    })),
  );
  // Mostly the states a run moves through; now and then a task instance of a task the version lacks.
  const states = (): TaskState => (r.next() < 0.4 ? "none" : r.pick(TASK_STATES));
  let list: TaskInstanceRecord[] = tis(spec).map((ti) => ({
    ...ti,
    state: states(),
    try_number: 1 + r.int(3),
    end_date: r.next() < 0.5 ? at(r.int(60)) : null,
  }));
  if (r.next() < 0.2) list.push({ ...list[0]!, id: 99, task_id: "gone", state: r.pick(["none", "scheduled", "success"] as const) });
  const theRun = run(r.next() < 0.2 ? "queued" : "running");
  const changed = new Set<number>();
  const write = (id: number, next: (ti: TaskInstanceRecord) => TaskInstanceRecord) => {
    list = list.map((ti) => (ti.id === id ? next(ti) : ti));
    changed.add(id);
  };

  // The whole-run plan, written; a transition that loses its race leaves what the other writer wrote.
  const first = planRun({ run: theRun, tis: list, spec }, at(100));
  for (const t of first.transitions)
    write(t.id, (ti) =>
      r.next() < 0.8 ? { ...ti, ...t.patch, state: t.to, updated_at: at(100) } : { ...ti, state: states(), updated_at: at(101) },
    );
  // Agents, the API, another replica: more task instances change before the next plan.
  for (let k = r.int(4); k > 0; k--) {
    const ti = r.pick(list);
    write(ti.id, (old) => ({ ...old, state: states(), updated_at: at(102), end_date: r.next() < 0.5 ? at(102) : old.end_date }));
  }
  const changedTasks = new Set(list.filter((ti) => changed.has(ti.id)).map((ti) => ti.task_id));
  const now = at(100 + r.int(200));
  return { spec, run: { ...theRun, state: theRun.state }, tis: list, changedTasks, now };
}

describe("planRun with changedTasks", () => {
  test("decides exactly what a plan of the whole run decides (2,000 random runs)", () => {
    for (let seed = 1; seed <= 2_000; seed++) {
      const c = randomCase(seed);
      const whole = planRun({ run: c.run, tis: c.tis, spec: c.spec }, c.now);
      const fromChanges = planRun({ run: c.run, tis: c.tis, spec: c.spec, changedTasks: c.changedTasks }, c.now);
      if (!Bun.deepEquals(fromChanges, whole)) expect({ seed, fromChanges }).toEqual({ seed, fromChanges: whole });
    }
  });

  test("an unchanged run decides nothing again, but a retry whose delay passed is reset", () => {
    const spec = dag([{ task_id: "a", retries: 1, retry_delay: 10 }, { task_id: "b", upstream: ["a"] }, { task_id: "c" }]);
    const list = tis(spec, { a: { state: "up_for_retry", end_date: at(0) }, b: "none", c: "running" });
    const plan = planRun({ run: run(), tis: list, spec, changedTasks: new Set() }, at(11));
    expect(plan.transitions.map((t) => [t.id, t.to])).toEqual([[1, "none"]]);
    expect(plan.run).toBeNull();
  });

  test("a depends_on_past task released by the previous run is scheduled, though nothing in this run changed", () => {
    const spec = dag([{ task_id: "a", depends_on_past: true }, { task_id: "b" }]);
    const list = tis(spec, { a: "none", b: "running" });
    // The previous plan held `a` back for its past; now the previous run is done and nothing blocks it.
    const plan = planRun({ run: run(), tis: list, spec, changedTasks: new Set() }, at(1));
    expect(plan.transitions.map((t) => [t.id, t.to])).toEqual([[1, "scheduled"]]);
  });

  test("a change cascades down the whole graph in one plan, as a plan of everything does", () => {
    const spec = dag([{ task_id: "a" }, { task_id: "b", upstream: ["a"] }, { task_id: "c", upstream: ["b"] }, { task_id: "d" }]);
    const list = tis(spec, { a: "failed", d: "running" });
    const plan = planRun({ run: run(), tis: list, spec, changedTasks: new Set(["a"]) }, at(1));
    expect(plan.transitions.map((t) => [t.id, t.to])).toEqual([
      [2, "upstream_failed"],
      [3, "upstream_failed"],
    ]);
    expect(plan).toEqual(planRun({ run: run(), tis: list, spec }, at(1)));
  });
});
