/**
 * Store contract for dynamic task mapping: task instances start at map_index -1; an expansion turns that one
 * into index 0 and adds its siblings once (a second expansion, or one of a moved instance, changes nothing);
 * a mapped task's instances are found by map_index and its XComs read back in map_index order. A whole-map
 * clear collapses instance 0 to -1 and removes the others; the next expansion revives what it still needs.
 */
import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";
import { newRun, T0 } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);

async function mappedRun(store: Store, dagId: string) {
  const spec = parseDagSpec({
    dag_id: dagId,
    tasks: [
      { task_id: "make", operator: "bash", bash_command: "true" },
      { task_id: "each", operator: "bash", bash_command: "true", expand: { x: { xcom: "make" } }, pool_slots: 2, retries: 3 },
    ],
  });
  const dag = await store.upsertDag("default", { spec, fileloc: `/dags/${dagId}.json`, pausedOnCreate: false, now: T0 });
  const run = await store.createDagRun(
    newRun(dag, "r1", {
      tasks: [
        { task_id: "make", operator: "bash", max_tries: 0, pool: "default_pool", pool_slots: 1, priority_weight: 2 },
        { task_id: "each", operator: "bash", max_tries: 3, pool: "default_pool", pool_slots: 2, priority_weight: 1 },
      ],
    }),
  );
  const each = (await store.getTaskInstance("default", dagId, "r1", "each"))!;
  return { run, each };
}

export function mappingContract(getStore: () => Store): void {
  describe("dynamic task mapping", () => {
    test("a new run's task instances are unmapped (map_index -1)", async () => {
      const store = getStore();
      const { run } = await mappedRun(store, "m0");
      const snap = (await store.loadRunSnapshots([run.id]))[0]!;
      expect(snap.tis.map((t) => [t.task_id, t.map_index])).toEqual([
        ["make", -1],
        ["each", -1],
      ]);
    });

    test("an expansion makes instances 0..n-1 that copy the -1 one, once", async () => {
      const store = getStore();
      const { run, each } = await mappedRun(store, "m1");
      expect(await store.expandTaskInstances([{ id: each.id, count: 3 }], at(5))).toEqual([true]);
      expect(await store.expandTaskInstances([{ id: each.id, count: 3 }], at(6))).toEqual([false]);
      const tis = (await store.loadRunSnapshots([run.id]))[0]!.tis.filter((t) => t.task_id === "each");
      expect(tis.map((t) => [t.map_index, t.state, t.try_number, t.max_tries, t.pool_slots, t.updated_at])).toEqual([
        [0, "none", 1, 3, 2, at(5)],
        [1, "none", 1, 3, 2, at(5)],
        [2, "none", 1, 3, 2, at(5)],
      ]);
      expect(tis[0]!.id).toBe(each.id); // the -1 instance became index 0: its id (logs, history) is kept
      expect(await store.getTaskInstance("default", "m1", "r1", "each")).toBeNull();
      expect((await store.getTaskInstance("default", "m1", "r1", "each", 2))?.map_index).toBe(2);
    });

    test("an expansion to one instance adds no sibling; a task instance that moved is not expanded", async () => {
      const store = getStore();
      const { run, each } = await mappedRun(store, "m2");
      const make = (await store.getTaskInstance("default", "m2", "r1", "make"))!;
      await store.applyTransitions([{ id: make.id, from: ["none"], to: "scheduled" }], at(1));
      expect(
        await store.expandTaskInstances(
          [
            { id: make.id, count: 4 },
            { id: each.id, count: 1 },
          ],
          at(2),
        ),
      ).toEqual([false, true]);
      const tis = (await store.loadRunSnapshots([run.id]))[0]!.tis;
      expect(tis.map((t) => [t.task_id, t.map_index])).toEqual([
        ["make", -1],
        ["each", 0],
      ]);
    });

    test("a whole-map clear collapses to -1 and removes the rest with their XComs; re-expanding revives them and adds new ones", async () => {
      const store = getStore();
      const { run, each } = await mappedRun(store, "m5");
      await store.expandTaskInstances([{ id: each.id, count: 3 }], at(1));
      const tis = (await store.loadRunSnapshots([run.id]))[0]!.tis.filter((t) => t.task_id === "each");
      await store.applyTransitions(
        tis.map((t) => ({ id: t.id, from: ["none"], to: "skipped" as const })),
        at(2),
      );
      const key = (map_index: number) => ({ team: "default", dag_id: "m5", run_id: "r1", task_id: "each", key: "return_value", map_index });
      for (const i of [0, 1, 2]) await store.setXCom(key(i), i, at(2));
      const clear = (t: (typeof tis)[number]) => ({ id: t.id, from: "skipped" as const, from_try: 1, try_number: 1, max_tries: 3 });
      const applied = await store.applyOperatorChange(
        {
          clears: [
            { ...clear(tis[0]!), map_index: -1 },
            { ...clear(tis[1]!), to: "removed" },
            { ...clear(tis[2]!), to: "removed" },
          ],
        },
        at(3),
      );
      expect(applied.clears).toEqual([true, true, true]);
      const states = async () =>
        (await store.loadRunSnapshots([run.id]))[0]!.tis
          .filter((t) => t.task_id === "each")
          .sort((a, b) => a.map_index - b.map_index)
          .map((t) => [t.id, t.map_index, t.state]);
      expect(await states()).toEqual([
        [tis[0]!.id, -1, "none"],
        [tis[1]!.id, 1, "removed"],
        [tis[2]!.id, 2, "removed"],
      ]);
      expect(await store.listMappedXComs({ team: "default", dag_id: "m5", run_id: "r1", task_id: "each", key: "return_value" })).toEqual(
        [],
      );

      // The scheduler reads large runs by their changes from a cursor: the revived rows are among them (stamped).
      const known = (await store.loadRunSnapshots([run.id]))[0]!.tis;
      const [held] = await store.loadRunChanges([run.id], new Map(known.map((t) => [t.id, t])));
      expect(await store.expandTaskInstances([{ id: each.id, count: 4 }], at(4))).toEqual([true]);
      const [changed] = await store.loadRunChanges([run.id], new Map(), new Map([[run.id, held!.cursor]]));
      expect(changed!.tis.map((t) => [t.map_index, t.state])).toEqual([
        [0, "none"],
        [1, "none"],
        [2, "none"],
        [3, "none"],
      ]);
      const after = await states();
      expect(after.slice(0, 3)).toEqual([
        [tis[0]!.id, 0, "none"],
        [tis[1]!.id, 1, "none"],
        [tis[2]!.id, 2, "none"],
      ]);
      expect(after[3]!.slice(1)).toEqual([3, "none"]);
    });

    test("a re-expansion's new instances are new task instances (try 1, the task's retries); revived ones keep their next try", async () => {
      const store = getStore();
      const { run, each } = await mappedRun(store, "m7");
      await store.expandTaskInstances([{ id: each.id, count: 2 }], at(1));
      const tis = (await store.loadRunSnapshots([run.id]))[0]!.tis.filter((t) => t.task_id === "each");
      // Both ran try 1 and failed for good; a whole-map clear puts each on try 2 with its retries afresh (clearFor).
      await store.applyTransitions(
        tis.map((t) => ({ id: t.id, from: ["none"], to: "failed" as const, patch: { start_date: at(2), end_date: at(2), max_tries: 0 } })),
        at(2),
      );
      const clear = (t: (typeof tis)[number]) => ({ id: t.id, from: "failed" as const, from_try: 1, try_number: 2, max_tries: 4 });
      await store.applyOperatorChange(
        {
          clears: [
            { ...clear(tis[0]!), map_index: -1 },
            { ...clear(tis[1]!), to: "removed" },
          ],
        },
        at(3),
      );

      expect(await store.expandTaskInstances([{ id: each.id, count: 4 }], at(4))).toEqual([true]);
      const after = (await store.loadRunSnapshots([run.id]))[0]!.tis
        .filter((t) => t.task_id === "each")
        .sort((a, b) => a.map_index - b.map_index);
      // Airflow: instance 0 and the revived 1 run their next try; 2 and 3 are created, their first try is 1, with
      // the task's 3 retries (not instance 0's budget counted from its try 2).
      expect(after.map((t) => [t.map_index, t.state, t.try_number, t.max_tries])).toEqual([
        [0, "none", 2, 4],
        [1, "none", 2, 4],
        [2, "none", 1, 3],
        [3, "none", 1, 3],
      ]);
      expect((await store.listTaskInstanceTries(after[2]!.id)).map((h) => h.try_number)).toEqual([]);
      expect((await store.listTaskInstanceTries(after[1]!.id)).map((h) => [h.try_number, h.state])).toEqual([[1, "failed"]]);
    });

    test("clearing one instance deletes only its XComs", async () => {
      const store = getStore();
      const { run, each } = await mappedRun(store, "m6");
      await store.expandTaskInstances([{ id: each.id, count: 2 }], at(1));
      const tis = (await store.loadRunSnapshots([run.id]))[0]!.tis.filter((t) => t.task_id === "each");
      await store.applyTransitions(
        tis.map((t) => ({ id: t.id, from: ["none"], to: "skipped" as const })),
        at(2),
      );
      const key = (map_index: number) => ({ team: "default", dag_id: "m6", run_id: "r1", task_id: "each", key: "return_value", map_index });
      for (const i of [0, 1]) await store.setXCom(key(i), i, at(2));
      await store.applyOperatorChange({ clears: [{ id: tis[1]!.id, from: "skipped", from_try: 1, try_number: 1, max_tries: 3 }] }, at(3));
      const left = await store.listMappedXComs({ team: "default", dag_id: "m6", run_id: "r1", task_id: "each", key: "return_value" });
      expect(left.map((x) => x.value)).toEqual([0]);
    });

    test("active instances are counted per task across the DAG's runs, queued and running only", async () => {
      const store = getStore();
      const { run, each } = await mappedRun(store, "m4");
      await store.expandTaskInstances([{ id: each.id, count: 3 }], at(1));
      const tis = (await store.loadRunSnapshots([run.id]))[0]!.tis.filter((t) => t.task_id === "each");
      await store.applyTransitions(
        tis.map((t) => ({ id: t.id, from: ["none"], to: "scheduled" as const })),
        at(2),
      );
      await store.applyTransitions(
        [
          { id: tis[0]!.id, from: ["scheduled"], to: "queued" },
          { id: tis[1]!.id, from: ["scheduled"], to: "running" },
        ],
        at(3),
      );
      const keys = [
        { team: "default", dag_id: "m4", task_id: "each" },
        { team: "default", dag_id: "m4", task_id: "make" },
        { team: "other", dag_id: "m4", task_id: "each" },
      ];
      expect(await store.countActiveByTask(keys)).toEqual([2, 0, 0]);
      expect(await store.countActiveByTask([])).toEqual([]);
    });

    test("a mapped task's XComs are read back in map_index order, the unmapped one apart", async () => {
      const store = getStore();
      await mappedRun(store, "m3");
      const key = (map_index: number) => ({ team: "default", dag_id: "m3", run_id: "r1", task_id: "each", key: "return_value", map_index });
      for (const i of [2, 0, 1]) await store.setXCom(key(i), { i }, at(i));
      await store.setXCom(key(-1), "unmapped", at(3));
      const list = await store.listMappedXComs({ team: "default", dag_id: "m3", run_id: "r1", task_id: "each", key: "return_value" });
      expect(list.map((x) => [x.map_index, x.value])).toEqual([
        [0, { i: 0 }],
        [1, { i: 1 }],
        [2, { i: 2 }],
      ]);
      expect(await store.listMappedXComs({ team: "default", dag_id: "m3", run_id: "r1", task_id: "make", key: "return_value" })).toEqual(
        [],
      );
    });

    test("the grid's read: the unmapped task instances as rows, the mapped ones a row per task and state", async () => {
      const store = getStore();
      const { run, each } = await mappedRun(store, "m9");
      await store.expandTaskInstances([{ id: each.id, count: 4 }], at(1));
      const tis = (await store.loadRunSnapshots([run.id]))[0]!.tis.filter((t) => t.task_id === "each");
      const [a, b, c, d] = tis.sort((x, y) => x.map_index - y.map_index).map((t) => t.id) as [number, number, number, number];
      await store.applyTransitions(
        [a, b, c].map((id) => ({ id, from: ["none" as const], to: "scheduled" as const })),
        at(2),
      );
      await store.applyTransitions(
        [
          { id: a, from: ["scheduled"], to: "running", patch: { start_date: at(3) } },
          { id: b, from: ["scheduled"], to: "running", patch: { start_date: at(4), try_number: 2 } },
          { id: c, from: ["scheduled"], to: "running", patch: { start_date: at(5) } },
        ],
        at(5),
      );
      await store.applyTransitions(
        [
          { id: a, from: ["running"], to: "success", patch: { end_date: at(8) } },
          { id: b, from: ["running"], to: "success", patch: { end_date: at(9) } },
        ],
        at(9),
      );
      await store.applyTransitions([{ id: d, from: ["none"], to: "removed" }], at(9));
      expect(await store.readTaskInstanceSummaries(run.id)).toEqual({
        unmapped: [{ task_id: "make", state: "none", try_number: 1, max_tries: 0, start_date: null, end_date: null }],
        mapped: [
          { task_id: "each", state: "success", count: 2, try_number: 2, max_tries: 3, start_date: at(3), end_date: at(9), ended: 2 },
          { task_id: "each", state: "running", count: 1, try_number: 1, max_tries: 3, start_date: at(5), end_date: null, ended: 0 },
          { task_id: "each", state: "removed", count: 1, try_number: 1, max_tries: 3, start_date: null, end_date: null, ended: 0 },
        ],
      });
      // Only the tasks named: the rows in view of a wide DAG's grid.
      expect(await store.readTaskInstanceSummaries(run.id, ["make"])).toMatchObject({ unmapped: [{ task_id: "make" }], mapped: [] });
      const named = await store.readTaskInstanceSummaries(run.id, ["each", "gone"]);
      expect([named.unmapped.length, named.mapped.map((g) => g.state)]).toEqual([0, ["success", "running", "removed"]]);
    });
  });
}
