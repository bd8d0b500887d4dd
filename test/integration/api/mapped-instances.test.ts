/**
 * The REST API on one instance of a mapped task, on SQLite and Postgres, as Airflow serves it: its XComs are
 * listed by `map_index` (all instances' without it), and clearTaskInstances with a [task_id, map_index] pair
 * clears that instance only, where a bare task id clears every instance (and has the task expanded again).
 */
import { describe, expect, test } from "bun:test";
import type { TaskState } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { forEachApiStore, NOW, type Harness } from "./harness";

forEachApiStore((makeHarness) => {
  const RUN = "/api/v2/dags/fan/dagRuns/r1";

  /** Run r1 of `fan`: `each` mapped over three items, instance i in `states[i]` with an XCom of i * 10; `sum` waits. */
  async function mappedRun(h: Harness, states: TaskState[]) {
    const spec = parseDagSpec({
      dag_id: "fan",
      tasks: [
        { task_id: "each", operator: "bash", bash_command: "true", expand: { x: [0, 1, 2] } },
        { task_id: "sum", operator: "bash", bash_command: "true", upstream: ["each"] },
      ],
    });
    await h.store.upsertDag("default", { spec, fileloc: "/dags/fan.json", pausedOnCreate: false, now: NOW });
    await h.call("POST", "/api/v2/dags/fan/dagRuns", { body: { dag_run_id: "r1", logical_date: null } });
    const each = (await h.store.getTaskInstance("default", "fan", "r1", "each"))!;
    await h.store.expandTaskInstances([{ id: each.id, count: states.length }], NOW);
    for (const [i, state] of states.entries()) {
      const ti = (await h.store.getTaskInstance("default", "fan", "r1", "each", i))!;
      for (const [from, to] of [
        ["none", "scheduled"],
        ["scheduled", "running"],
        ["running", state],
      ] as const)
        await h.store.applyTransitions([{ id: ti.id, from: [from], to }], NOW);
      await h.store.setXCom(
        { team: "default", dag_id: "fan", run_id: "r1", task_id: "each", map_index: i, key: "return_value" },
        i * 10,
        NOW,
      );
    }
  }

  describe("one instance of a mapped task", () => {
    test("its XComs are listed by map_index; without one, every instance's; an unknown task is 404", async () => {
      const h = await makeHarness();
      await mappedRun(h, ["success", "success", "success"]);
      const one = await h.json("GET", `${RUN}/taskInstances/each/xcomEntries?map_index=1`);
      expect(one.status).toBe(200);
      expect(one.body.xcom_entries.map((x: { map_index: number; key: string }) => [x.map_index, x.key])).toEqual([[1, "return_value"]]);
      const value = await h.json("GET", `${RUN}/taskInstances/each/xcomEntries/return_value?map_index=1`);
      expect(value.body.value).toBe(10);
      const all = await h.json("GET", `${RUN}/taskInstances/each/xcomEntries`);
      expect(all.body.xcom_entries.map((x: { map_index: number }) => x.map_index)).toEqual([0, 1, 2]);
      expect((await h.json("GET", `${RUN}/taskInstances/each/xcomEntries?map_index=7`)).status).toBe(404);
      expect((await h.json("GET", `${RUN}/taskInstances/nope/xcomEntries`)).status).toBe(404);
    });

    test("clearTaskInstances with [task_id, map_index] clears that instance only; a bare task id, all of them", async () => {
      const h = await makeHarness();
      await mappedRun(h, ["success", "failed", "success"]);
      const states = async () =>
        (await h.json("GET", `${RUN}/taskInstances/each/listMapped`)).body.task_instances.map(
          (t: { map_index: number; state: string | null }) => [t.map_index, t.state],
        );
      const one = await h.json("POST", "/api/v2/dags/fan/clearTaskInstances", {
        body: { dag_run_id: "r1", task_ids: [["each", 1]], only_failed: false, dry_run: false },
      });
      expect(one.status).toBe(200);
      expect(one.body.task_instances.map((t: { task_id: string; map_index: number }) => [t.task_id, t.map_index])).toEqual([["each", 1]]);
      expect(await states()).toEqual([
        [0, "success"],
        [1, null],
        [2, "success"],
      ]);
      // A bare id (here beside a pair for the same task) clears every instance: the task waits to expand again.
      const all = await h.json("POST", "/api/v2/dags/fan/clearTaskInstances", {
        body: { dag_run_id: "r1", task_ids: ["each", ["each", 0]], only_failed: false, dry_run: true },
      });
      expect(all.body.task_instances.map((t: { map_index: number }) => t.map_index).sort()).toEqual([0, 1, 2]);
    });
  });
});
