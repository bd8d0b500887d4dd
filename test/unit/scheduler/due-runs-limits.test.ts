/** Pure decisions the loop takes on runs: which may be planned (pause, max_active_runs, backfills), dagrun_timeout. */
import { describe, expect, test } from "bun:test";
import { planRunTimeout, runTimeoutAt, selectRunsToPlan } from "../../../src/scheduler";
import { teamKey, type RunGates } from "../../../src/domain";
import { T0, at, dag, run, tis } from "./helpers";

type R = RunGates["runs"][number];
/** A run of `dag_id`, or of "team/dag_id" for a team other than default. */
const runOf =
  (state: R["state"]) =>
  (id: number, dag = "etl", backfill_id: number | null = null, run_after: Date | null = null): R => {
    const [team, dag_id] = dag.includes("/") ? (dag.split("/") as [string, string]) : ["default", dag];
    return { id, team, dag_id, state, backfill_id, run_after };
  };
const q = runOf("queued");
const r = runOf("running");

/** `dags` by dag_id (team default) or "team/dag_id". */
function gates(
  runs: R[],
  dags: Record<string, [paused: boolean, max: number, running: number]>,
  backfills: Record<number, [boolean, number, number]> = {},
): RunGates {
  const key = (k: string) => (k.includes("/") ? k : teamKey("default", k));
  return {
    runs,
    dags: new Map(
      Object.entries(dags).map(([k, [is_paused, max_active_runs, running]]) => [key(k), { is_paused, max_active_runs, running }]),
    ),
    backfills: new Map(
      Object.entries(backfills).map(([k, [is_paused, max_active_runs, running]]) => [Number(k), { is_paused, max_active_runs, running }]),
    ),
  };
}

describe("selectRunsToPlan", () => {
  const cases: { name: string; gates: RunGates; plan: number[]; held: string[]; wakeUps?: [number, Date][] }[] = [
    { name: "room for all", gates: gates([q(1), q(2)], { etl: [false, 16, 0] }), plan: [1, 2], held: [] },
    {
      name: "max_active_runs: oldest queued first, the rest wait",
      gates: gates([q(5), r(1), q(3), q(4)], { etl: [false, 2, 1] }),
      plan: [1, 3],
      held: ["4: DAG etl has max_active_runs=2 runs running", "5: DAG etl has max_active_runs=2 runs running"],
    },
    {
      name: "running runs are always planned, even over the limit (a limit lowered later)",
      gates: gates([r(1), r(2), q(3)], { etl: [false, 1, 2] }),
      plan: [1, 2],
      held: ["3: DAG etl has max_active_runs=1 runs running"],
    },
    {
      name: "paused DAG: nothing planned, running runs included",
      gates: gates([r(1), q(2), q(3, "other")], { etl: [true, 16, 1], other: [false, 16, 0] }),
      plan: [3],
      held: ["1: DAG etl is paused", "2: DAG etl is paused"],
    },
    {
      name: "backfill runs count against the backfill's limit, not the DAG's",
      gates: gates([q(1), q(10, "etl", 7), q(11, "etl", 7), q(12, "etl", 7)], { etl: [false, 1, 1] }, { 7: [false, 2, 1] }),
      plan: [10],
      held: [
        "1: DAG etl has max_active_runs=1 runs running",
        "11: backfill 7 has max_active_runs=2 runs running",
        "12: backfill 7 has max_active_runs=2 runs running",
      ],
    },
    {
      name: "paused backfill: its queued runs wait, its running ones go on",
      gates: gates([r(10, "etl", 7), q(11, "etl", 7)], { etl: [false, 16, 0] }, { 7: [true, 5, 1] }),
      plan: [10],
      held: ["11: backfill 7 is paused"],
    },
    {
      name: "two teams' DAGs named alike are limited apart: each its own pause and max_active_runs",
      gates: gates([q(1), q(2), q(3, "ml/etl"), q(4, "ml/etl"), q(5, "web/etl")], {
        etl: [false, 1, 0],
        "ml/etl": [false, 2, 1],
        "web/etl": [true, 16, 0],
      }),
      plan: [1, 3],
      held: ["2: DAG etl has max_active_runs=1 runs running", "4: DAG etl has max_active_runs=2 runs running", "5: DAG etl is paused"],
    },
    {
      name: "run_after: a queued run waits for it and takes no max_active_runs slot meanwhile; it starts once it is due",
      gates: gates([q(1, "etl", null, at(60_000)), q(2, "etl", null, T0), q(3), q(4, "etl", null, at(-1))], { etl: [false, 2, 0] }),
      plan: [2, 3],
      held: [`1: run_after ${at(60_000).toISOString()} is still to come`, "4: DAG etl has max_active_runs=2 runs running"],
      wakeUps: [[1, at(60_000)]],
    },
    {
      name: "run_after holds only a queued run (a running run's is past by definition)",
      gates: gates([r(1, "etl", null, at(60_000))], { etl: [false, 16, 1] }),
      plan: [1],
      held: [],
    },
  ];
  for (const c of cases)
    test(c.name, () => {
      const { plan, held, wakeUps } = selectRunsToPlan(c.gates, T0);
      expect({ plan, held: held.map((h) => `${h.id}: ${h.reason}`), wakeUps: wakeUps.map((w) => [w.runId, w.at]) }).toEqual({
        plan: c.plan,
        held: c.held,
        wakeUps: c.wakeUps ?? [],
      });
    });

  test("a held run names its team, so the run that ends in that team's DAG replans it", () => {
    const { held } = selectRunsToPlan(gates([q(1, "ml/etl"), q(2, "ml/etl")], { "ml/etl": [false, 1, 1] }), T0);
    expect(held.map((h) => [h.id, h.team, h.dag_id])).toEqual([
      [1, "ml", "etl"],
      [2, "ml", "etl"],
    ]);
  });
});

describe("dagrun_timeout", () => {
  const spec = dag(
    [
      { task_id: "a" },
      { task_id: "b", upstream: ["a"] },
      { task_id: "c", upstream: ["b"] },
      { task_id: "d" },
      { task_id: "e" },
      { task_id: "f" },
    ],
    { dagrun_timeout: 60 },
  );

  test("a running run past its timeout fails: running/queued/deferred tasks fail, unstarted ones are skipped, finished ones stay", () => {
    const instances = tis(spec, { a: "running", b: "none", c: "scheduled", d: "deferred", e: "queued", f: "success" });
    const decision = planRunTimeout(run("running"), instances, spec, at(60));
    expect(decision?.note).toBe("dagrun_timeout (60s) exceeded");
    expect(decision?.transitions.map((t) => [instances.find((i) => i.id === t.id)!.task_id, t.from, t.to])).toEqual([
      ["a", ["running"], "failed"],
      ["b", ["none"], "skipped"],
      ["c", ["scheduled"], "skipped"],
      ["d", ["deferred"], "failed"], // a waiting sensor's try has started
      ["e", ["queued"], "failed"],
    ]);
    expect(decision!.transitions[0]!.patch).toEqual({ end_date: at(60), note: "dagrun_timeout (60s) exceeded" });
  });

  const notDue: { name: string; state: "queued" | "running"; timeout?: number; now: Date }[] = [
    { name: "before the timeout", state: "running", timeout: 60, now: at(59) },
    { name: "no dagrun_timeout", state: "running", now: at(99999) },
    { name: "a queued run (not started) never times out", state: "queued", timeout: 60, now: at(99999) },
  ];
  for (const c of notDue)
    test(`not due: ${c.name}`, () => {
      const s = { ...spec, dagrun_timeout: c.timeout };
      expect(planRunTimeout(run(c.state), tis(spec), s, c.now)).toBeNull();
    });

  test("runTimeoutAt is start_date + timeout", () => {
    expect(runTimeoutAt(run("running"), spec)).toEqual(new Date(T0.getTime() + 60_000));
    expect(runTimeoutAt(run("queued"), spec)).toBeNull();
  });
});
