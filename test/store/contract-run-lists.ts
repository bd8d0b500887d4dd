/**
 * Store contract for the API's run and task-instance lists (issue 15): every filter of listDagRuns and
 * findTaskInstances, deleteDagRun, and the try history a clear leaves behind (listTaskInstanceTries).
 */
import { describe, expect, test } from "bun:test";
import type { TaskState } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";
import { newRun, T0 } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);

/** DAGs etl and Report; etl has manual Run_a (logical T0) and scheduled run_b (no logical date, queued at +60 s). */
async function fixture(store: Store) {
  const dag = async (dag_id: string) =>
    store.upsertDag("default", {
      spec: parseDagSpec({ dag_id, tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] }),
      fileloc: `/dags/${dag_id}.json`,
      pausedOnCreate: false,
      now: T0,
    });
  const etl = await dag("etl");
  const report = await dag("Report");
  const a = await store.createDagRun(newRun(etl, "Run_a", { logical_date: T0 }));
  const b = await store.createDagRun(newRun(etl, "run_b", { run_type: "scheduled", queued_at: at(60) }));
  const c = await store.createDagRun(newRun(report, "run_c"));
  return { a, b, c };
}

async function finish(store: Store, runId: string, dagId = "etl") {
  const ti = (await store.getTaskInstance("default", dagId, runId, "t"))!;
  const steps: [TaskState, TaskState, object][] = [
    ["none", "scheduled", {}],
    ["scheduled", "queued", { queued_at: at(1) }],
    ["queued", "running", { start_date: at(2), hostname: "w1" }],
    ["running", "success", { end_date: at(12) }],
  ];
  for (const [from, to, patch] of steps)
    expect(await store.applyTransitions([{ id: ti.id, from: [from], to, patch }], at(1))).toEqual([true]);
  return ti;
}

export function runListsContract(getStore: () => Store): void {
  describe("run and task-instance lists", () => {
    test("listDagRuns: dag_ids, run_type, run_id_pattern and dag_id_pattern (LIKE, any case), date ranges", async () => {
      const store = getStore();
      await fixture(store);
      const ids = async (f: Parameters<Store["listDagRuns"]>[1]) =>
        (await store.listDagRuns("default", { order_by: "run_id", ...f })).items.map((r) => r.run_id);
      expect(await ids({ dag_ids: ["etl", "nope"] })).toEqual(["Run_a", "run_b"]);
      expect(await ids({ run_type: ["scheduled"] })).toEqual(["run_b"]);
      expect(await ids({ run_type: [] })).toEqual([]);
      expect(await ids({ run_id_pattern: "run\\_%" })).toEqual(["Run_a", "run_b", "run_c"]);
      expect(await ids({ run_id_pattern: "%_B" })).toEqual(["run_b"]);
      expect(await ids({ dag_id_pattern: "rep%" })).toEqual(["run_c"]);
      expect(await ids({ logical_date: { gte: T0, lt: at(1) } })).toEqual(["Run_a"]);
      expect(await ids({ run_after: { gt: at(30) } })).toEqual(["run_b"]);
      expect(await ids({ start_date: { gte: T0 } })).toEqual([]);
      expect((await store.listDagRuns("default", { dag_id: "etl", run_type: ["manual", "scheduled"], limit: 1 })).total).toBe(2);
    });

    test("findTaskInstances: across runs, by pattern, state, duration, try, the run's logical date", async () => {
      const store = getStore();
      await fixture(store);
      await finish(store, "Run_a");
      const keys = async (f: Parameters<Store["findTaskInstances"]>[1]) =>
        (await store.findTaskInstances("default", { order_by: "run_id", ...f })).items.map((t) => `${t.dag_id}/${t.run_id}`);
      expect(await keys({})).toEqual(["etl/Run_a", "etl/run_b", "Report/run_c"]);
      expect(await keys({ dag_id: "etl", run_id: "run_b" })).toEqual(["etl/run_b"]);
      expect(await keys({ run_ids: ["run_c"], task_ids: ["t"] })).toEqual(["Report/run_c"]);
      expect(await keys({ task_id_pattern: "T" })).toHaveLength(3);
      expect(await keys({ state: ["success"] })).toEqual(["etl/Run_a"]);
      expect(await keys({ state: ["none"], dag_ids: ["etl"] })).toEqual(["etl/run_b"]);
      expect(await keys({ duration: { gte: 10, lte: 10 } })).toEqual(["etl/Run_a"]);
      expect(await keys({ duration: { gt: 10 } })).toEqual([]);
      expect(await keys({ start_date: { gte: at(2) }, end_date: { lte: at(12) } })).toEqual(["etl/Run_a"]);
      expect(await keys({ logical_date: { gte: T0 } })).toEqual(["etl/Run_a"]);
      expect(await keys({ try_number: [1], pool: ["default_pool"], operator: ["bash"], executor: ["none-such"] })).toEqual([]);
      const page = await store.findTaskInstances("default", { limit: 1, offset: 1, order_by: "-run_id" });
      expect([page.total, page.items.map((t) => t.run_id)]).toEqual([3, ["run_b"]]);
    });

    test("findTaskInstances of one run: pages in id order either way, with the run's total, other runs and filters kept apart", async () => {
      const store = getStore();
      const tasks = ["e", "d", "c", "b", "a"].map((task_id) => ({ task_id, operator: "bash", bash_command: "true" }));
      const dag = await store.upsertDag("default", {
        spec: parseDagSpec({ dag_id: "wide", tasks }),
        fileloc: "/dags/wide.json",
        pausedOnCreate: false,
        now: T0,
      });
      const run = (runId: string) =>
        store.createDagRun(
          newRun(dag, runId, {
            tasks: tasks.map(({ task_id }) => ({
              task_id,
              operator: "bash",
              max_tries: 0,
              pool: "default_pool",
              pool_slots: 1,
              priority_weight: 1,
            })),
          }),
        );
      await run("before");
      await run("r1");
      await run("after");
      const all = (await store.listTaskInstances("default", "wide", "r1")).items;
      const ids = all.map((t) => t.id).sort((x, y) => x - y);
      await store.applyTransitions(
        [
          { id: ids[1]!, from: ["none"], to: "scheduled" },
          { id: ids[3]!, from: ["none"], to: "scheduled" },
        ],
        T0,
      );
      const page = async (f: Parameters<Store["findTaskInstances"]>[1]) => {
        const p = await store.findTaskInstances("default", { dag_id: "wide", run_id: "r1", ...f });
        return { total: p.total, ids: p.items.map((t) => t.id), runs: [...new Set(p.items.map((t) => t.run_id))] };
      };
      expect(await page({ limit: 2, offset: 0 })).toEqual({ total: 5, ids: ids.slice(0, 2), runs: ["r1"] });
      expect(await page({ limit: 2, offset: 4 })).toEqual({ total: 5, ids: ids.slice(4), runs: ["r1"] });
      expect(await page({ limit: 2, offset: 1, order_by: "-id" })).toEqual({ total: 5, ids: [ids[3]!, ids[2]!], runs: ["r1"] });
      expect(await page({ order_by: "task_id" })).toEqual({ total: 5, ids: [...ids].reverse(), runs: ["r1"] });
      expect(await page({ state: ["scheduled"] })).toEqual({ total: 2, ids: [ids[1]!, ids[3]!], runs: ["r1"] });
      expect(await page({ run_ids: ["r1"], task_ids: ["a", "e"] })).toEqual({ total: 2, ids: [ids[0]!, ids[4]!], runs: ["r1"] });
      expect(await page({ run_ids: ["after"] })).toEqual({ total: 0, ids: [], runs: [] });
      expect(await page({ run_id: "none-such" })).toEqual({ total: 0, ids: [], runs: [] });
      expect((await store.findTaskInstances("default", { dag_id: "wide", run_ids: ["r1"] })).total).toBe(5);
      expect((await store.findTaskInstances("default", { dag_id: "other", run_id: "r1" })).total).toBe(0);
    });

    test("deleteDagRun removes the run, its task instances and its XComs, and nothing else", async () => {
      const store = getStore();
      await fixture(store);
      await store.setXCom({ team: "default", dag_id: "etl", run_id: "Run_a", task_id: "t", key: "k" }, 1, T0);
      await store.setXCom({ team: "default", dag_id: "etl", run_id: "run_b", task_id: "t", key: "k" }, 2, T0);
      expect(await store.deleteDagRun("default", "etl", "Run_a")).toBe(true);
      expect(await store.getDagRun("default", "etl", "Run_a")).toBeNull();
      expect(await store.getTaskInstance("default", "etl", "Run_a", "t")).toBeNull();
      expect(await store.getXCom({ team: "default", dag_id: "etl", run_id: "Run_a", task_id: "t", key: "k" })).toBeNull();
      expect((await store.getXCom({ team: "default", dag_id: "etl", run_id: "run_b", task_id: "t", key: "k" }))?.value).toBe(2);
      expect(await store.deleteDagRun("default", "etl", "Run_a")).toBe(false);
    });

    test("listXComs: any DAG, run or task; key, patterns and the run's dates", async () => {
      const store = getStore();
      await fixture(store);
      await store.setXCom({ team: "default", dag_id: "etl", run_id: "Run_a", task_id: "t", key: "Rows_in" }, 1, T0);
      await store.setXCom({ team: "default", dag_id: "etl", run_id: "run_b", task_id: "t", key: "rows" }, 2, T0);
      await store.setXCom({ team: "default", dag_id: "Report", run_id: "run_c", task_id: "t", key: "html" }, 3, T0);
      const keys = async (f: Parameters<Store["listXComs"]>[1]) =>
        (await store.listXComs("default", { order_by: "key", ...f })).items.map((x) => x.key);
      expect(await keys({})).toEqual(["Rows_in", "html", "rows"]); // byte order, as both stores collate keys
      expect(await keys({ dag_id: "etl" })).toHaveLength(2);
      expect(await keys({ dag_id: "etl", run_id: "run_b", task_id: "t", key: "rows" })).toEqual(["rows"]);
      expect(await keys({ key_pattern: "rows\\_%" })).toEqual(["Rows_in"]);
      expect(await keys({ dag_id_pattern: "rep%", run_id_pattern: "%C", task_id_pattern: "T" })).toEqual(["html"]);
      expect(await keys({ logical_date: { gte: T0 } })).toEqual(["Rows_in"]);
      expect(await keys({ run_after: { gte: at(30) } })).toEqual(["rows"]);
      expect((await store.listXComs("default", { limit: 1 })).total).toBe(3);
    });

    test("a clear that starts the next try keeps the finished try in the history", async () => {
      const store = getStore();
      await fixture(store);
      const ti = await finish(store, "Run_a");
      expect(await store.listTaskInstanceTries(ti.id)).toEqual([]);
      const done = await store.applyOperatorChange(
        { clears: [{ id: ti.id, from: "success", from_try: 1, try_number: 2, max_tries: 0 }] },
        at(20),
      );
      expect(done.clears).toEqual([true]);
      const tries = await store.listTaskInstanceTries(ti.id);
      expect(tries.map((t) => [t.try_number, t.state, t.hostname, t.start_date, t.end_date])).toEqual([
        [1, "success", "w1", at(2), at(12)],
      ]);
      expect(tries[0]).toMatchObject({ id: ti.id, dag_id: "etl", run_id: "Run_a", task_id: "t" });
      // A task that never ran leaves no try behind.
      const other = (await store.getTaskInstance("default", "etl", "run_b", "t"))!;
      await store.applyOperatorChange({ clears: [{ id: other.id, from: "none", from_try: 1, try_number: 2, max_tries: 0 }] }, at(20));
      expect(await store.listTaskInstanceTries(other.id)).toEqual([]);
    });
  });
}
