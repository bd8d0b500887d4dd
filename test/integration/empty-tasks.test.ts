/**
 * Empty tasks (Airflow's EmptyOperator) through the real loop, store and API on both stores: the scheduler marks
 * them success itself, no dispatcher ever sees one, they take no slot of a full pool, and the API shows them as
 * Airflow does (started and ended at once, try 1, operator "empty").
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createApi } from "../../src/api";
import type { DagRunRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { buildDagRun, type SchedulerLoop } from "../../src/scheduler";
import type { Store } from "../../src/store";
import { type HoldingAgent, holdingLoop } from "../support/holding-agent";
import { forEachStore } from "../support/stores";

let store: Store;
let agent: HoldingAgent;
let loop: SchedulerLoop;
const clock = new Date("2026-03-01T12:00:00Z");

forEachStore((backend) => {
  beforeEach(async () => {
    ({ store, agent, loop } = await holdingLoop(backend, () => clock));
  });

  afterEach(async () => {
    await loop.stop();
    await store.close();
  });

  async function trigger(tasks: Record<string, unknown>[]): Promise<DagRunRecord> {
    const spec = parseDagSpec({ dag_id: "markers", tasks });
    await store.upsertDag("default", { spec, fileloc: "/dags/markers.json", pausedOnCreate: false, now: clock });
    const dag = (await store.getDag("default", "markers"))!;
    return store.createDagRun(buildDagRun(dag, { run_id: "r1", run_type: "manual", logical_date: null }, clock));
  }

  async function ticks(runId: number): Promise<void> {
    loop.wake(runId);
    for (let i = 0; i < 5; i++) await loop.tick();
  }

  const statesOf = async () =>
    Object.fromEntries((await store.listTaskInstances("default", "markers", "r1")).items.map((t) => [t.task_id, t.state]));

  describe("empty tasks", () => {
    test("start and end markers succeed without a dispatch; the API shows them started and ended at once", async () => {
      const run = await trigger([
        { task_id: "start", operator: "empty" },
        { task_id: "a", operator: "bash", bash_command: "true", upstream: ["start"] },
        { task_id: "b", operator: "bash", bash_command: "true", upstream: ["start"] },
        { task_id: "done", operator: "empty", upstream: ["a", "b"] },
      ]);
      await ticks(run.id);
      expect(await statesOf()).toEqual({ start: "success", a: "running", b: "running", done: "none" });
      await agent.finishAll();
      await ticks(run.id);
      expect(await statesOf()).toEqual({ start: "success", a: "success", b: "success", done: "success" });
      expect((await store.getDagRunById(run.id))!.state).toBe("success");
      expect(agent.seen.sort()).toEqual(["a", "b"]);

      const api = createApi({
        store,
        tokens: null,
        version: "test",
        scheduler: { wake: (id) => loop.wake(id), health: () => loop.health() },
        now: () => clock,
      });
      const res = await api.request("/api/v2/dags/markers/dagRuns/r1/taskInstances/done");
      expect(res.status).toBe(200);
      const done = (await res.json()) as Record<string, unknown>;
      expect(done).toMatchObject({ state: "success", operator: "empty", try_number: 1, duration: 0 });
      expect(done.start_date).toBe(done.end_date);
      expect(done.start_date).not.toBeNull();
    });

    test("an empty task takes no slot: it succeeds while its pool has none free", async () => {
      await store.createPool("default", { name: "tiny", slots: 0, description: null, include_deferred: false });
      const run = await trigger([{ task_id: "mark", operator: "empty", pool: "tiny" }]);
      await ticks(run.id);
      expect(await statesOf()).toEqual({ mark: "success" });
      expect((await store.getDagRunById(run.id))!.state).toBe("success");
      expect(agent.seen).toEqual([]);
    });

    test("a mapped empty task expands, and each instance succeeds without a dispatch", async () => {
      const run = await trigger([
        { task_id: "marks", operator: "empty", expand: { n: [1, 2, 3] } },
        { task_id: "after", operator: "bash", bash_command: "true", upstream: ["marks"] },
      ]);
      await ticks(run.id);
      const marks = (await store.listTaskInstances("default", "markers", "r1")).items.filter((t) => t.task_id === "marks");
      expect(marks.map((t) => [t.map_index, t.state])).toEqual([
        [0, "success"],
        [1, "success"],
        [2, "success"],
      ]);
      expect(agent.seen).toEqual(["after"]);
    });

    test("its trigger rule still decides: after a failure, all_done succeeds and all_success is upstream_failed", async () => {
      const run = await trigger([
        { task_id: "work", operator: "bash", bash_command: "false" },
        { task_id: "ok", operator: "empty", upstream: ["work"] },
        { task_id: "cleanup", operator: "empty", upstream: ["work"], trigger_rule: "all_done" },
      ]);
      await ticks(run.id);
      await agent.finishAll("failed");
      await ticks(run.id);
      expect(await statesOf()).toEqual({ work: "failed", ok: "upstream_failed", cleanup: "success" });
      expect((await store.getDagRunById(run.id))!.state).toBe("failed");
    });
  });
});
