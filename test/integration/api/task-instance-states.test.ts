/**
 * GET /api/v2/leoflow/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstanceStates: what the DAG page's grid draws of a
 * run's task instances, the same values as the task instance list's fields of those names, in its order and pages.
 * …/taskInstanceSummaries: the same, one per task, a mapped task's instances folded into their count and states.
 */
import { describe, expect, test } from "bun:test";
import type { TaskState } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { etlRunStepping, forEachApiStore, NOW, type Harness } from "./harness";

const FIELDS = ["task_id", "map_index", "state", "try_number", "max_tries", "start_date", "end_date", "duration"] as const;
const pick = (ti: Record<string, unknown>) => Object.fromEntries(FIELDS.map((f) => [f, ti[f]]));

forEachApiStore((makeHarness) => {
  const STATES = "/api/v2/leoflow/dags/etl/dagRuns/r1/taskInstanceStates";
  const T = (s: number) => new Date(NOW.getTime() + s * 1000);

  /** A run r1 of etl whose `extract` succeeded on its second try and whose `load` has not started. */
  async function halfDoneRun() {
    const h = await makeHarness();
    const { step } = await etlRunStepping(h);
    await step("none", "scheduled");
    await step("scheduled", "queued", { queued_at: T(1) });
    await step("queued", "running", { start_date: T(2), hostname: "w1", try_number: 2 });
    await step("running", "success", { end_date: T(5) });
    return h;
  }

  describe("task instance states", () => {
    test("the list's values for the grid's fields, and nothing else", async () => {
      const h = await halfDoneRun();
      const slim = await h.json("GET", STATES);
      const full = await h.json("GET", "/api/v2/dags/etl/dagRuns/r1/taskInstances");
      expect(slim.status).toBe(200);
      expect(slim.body.total_entries).toBe(2);
      expect(slim.body.task_instances).toEqual(full.body.task_instances.map(pick));
      expect(slim.body.task_instances[0]).toEqual({
        task_id: "extract",
        map_index: -1,
        state: "success",
        try_number: 2,
        max_tries: 2,
        start_date: T(2).toISOString(),
        end_date: T(5).toISOString(),
        duration: 3,
      });
      expect(slim.body.task_instances[1]).toMatchObject({ task_id: "load", state: null, start_date: null, duration: null });
    });

    test("pages as the list does; 404 for an unknown run or DAG; a bad limit is refused", async () => {
      const h = await halfDoneRun();
      const page = await h.json("GET", `${STATES}?limit=1&offset=1`);
      expect(page.body).toEqual({ task_instances: [expect.objectContaining({ task_id: "load" })], total_entries: 2 });
      expect((await h.json("GET", "/api/v2/leoflow/dags/etl/dagRuns/nope/taskInstanceStates")).status).toBe(404);
      expect((await h.json("GET", "/api/v2/leoflow/dags/nope/dagRuns/r1/taskInstanceStates")).status).toBe(404);
      expect((await h.json("GET", `${STATES}?limit=-1`)).status).toBe(422);
      // Pages of up to 10,000 (the list's stop at 1,000), the whole run by default; a larger limit is cut to it.
      for (const q of ["", "?limit=20000"]) expect((await h.json("GET", `${STATES}${q}`)).body.task_instances).toHaveLength(2);
    });
  });

  describe("task instance summaries", () => {
    const SUMMARIES = "/api/v2/leoflow/dags/fan/dagRuns/r1/taskInstanceSummaries";

    /** Run r1 of `fan`: `each` mapped over four items and moved as `to` says (start at T(i), end at T(10 + i)), `sum` after it. */
    async function mappedRun(h: Harness, to: readonly (TaskState | "removed")[]) {
      const spec = parseDagSpec({
        dag_id: "fan",
        tasks: [
          { task_id: "each", operator: "bash", bash_command: "true", expand: { x: [1, 2, 3, 4] }, retries: 2 },
          { task_id: "sum", operator: "bash", bash_command: "true", upstream: ["each"] },
        ],
      });
      await h.store.upsertDag("default", { spec, fileloc: "/dags/fan.json", pausedOnCreate: false, now: NOW });
      await h.call("POST", "/api/v2/dags/fan/dagRuns", { body: { dag_run_id: "r1", logical_date: null } });
      const each = (await h.store.getTaskInstance("default", "fan", "r1", "each"))!;
      await h.store.expandTaskInstances([{ id: each.id, count: to.length }], NOW);
      const [snap] = await h.store.loadRunSnapshots([each.dag_run_id]);
      const instances = snap!.tis.filter((t) => t.task_id === "each").sort((a, b) => a.map_index - b.map_index);
      for (const [i, ti] of instances.entries()) await moveTo(h, ti.id, to[i]!, i);
      return instances;
    }
    async function moveTo(h: Harness, id: number, to: TaskState, i: number) {
      if (to === "removed") return void (await h.store.applyTransitions([{ id, from: ["none"], to }], NOW));
      await h.store.applyTransitions([{ id, from: ["none"], to: "scheduled" }], NOW);
      await h.store.applyTransitions([{ id, from: ["scheduled"], to: "running", patch: { start_date: T(i), try_number: i + 1 } }], NOW);
      if (to !== "running") await h.store.applyTransitions([{ id, from: ["running"], to, patch: { end_date: T(10 + i) } }], NOW);
    }

    test("a mapped task is one entry: its instances counted by state, the most telling one its state", async () => {
      const h = await makeHarness();
      const instances = await mappedRun(h, ["success", "running", "failed", "removed"]);
      const res = await h.json("GET", SUMMARIES);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        task_instances: [
          { task_id: "sum", map_index: -1, state: null, try_number: 1, max_tries: 0, start_date: null, end_date: null, duration: null },
          {
            task_id: "each",
            map_index: null,
            // Still moving wins; the removed instance is left out; no end while one runs.
            state: "running",
            try_number: 3,
            max_tries: 2,
            start_date: T(0).toISOString(),
            end_date: null,
            duration: null,
            mapped_count: 3,
            mapped_states: { running: 1, failed: 1, success: 1 },
          },
        ],
        total_entries: 2,
      });
      // Once the last one ends: failed beats success, and the cell spans the first start to the last end.
      await h.store.applyTransitions([{ id: instances[1]!.id, from: ["running"], to: "success", patch: { end_date: T(20) } }], NOW);
      expect((await h.json("GET", SUMMARIES)).body.task_instances[1]).toMatchObject({
        state: "failed",
        start_date: T(0).toISOString(),
        end_date: T(20).toISOString(),
        duration: 20,
        mapped_count: 3,
        mapped_states: { failed: 1, success: 2 },
      });
    });

    test("an unmapped task is its task instance's states entry; 404 for an unknown run or DAG", async () => {
      const h = await halfDoneRun();
      const summaries = await h.json("GET", "/api/v2/leoflow/dags/etl/dagRuns/r1/taskInstanceSummaries");
      expect(summaries.body).toEqual((await h.json("GET", STATES)).body);
      expect((await h.json("GET", "/api/v2/leoflow/dags/etl/dagRuns/nope/taskInstanceSummaries")).status).toBe(404);
      expect((await h.json("GET", "/api/v2/leoflow/dags/nope/dagRuns/r1/taskInstanceSummaries")).status).toBe(404);
    });

    test("the DAG-level read: some tasks of some runs at once, as each run's summaries say; its limits refused", async () => {
      const h = await makeHarness();
      await mappedRun(h, ["success", "running"]);
      await h.call("POST", "/api/v2/dags/fan/dagRuns", { body: { dag_run_id: "r2", logical_date: null } });
      const WINDOW = "/api/v2/leoflow/dags/fan/taskInstanceSummaries";
      const both = await h.json("GET", `${WINDOW}?dag_run_id=r1&dag_run_id=r2&task_id=each`);
      expect(both.status).toBe(200);
      expect(both.body.dag_runs.map((r: { dag_run_id: string }) => r.dag_run_id)).toEqual(["r1", "r2"]);
      const perRun = (await h.json("GET", SUMMARIES)).body.task_instances;
      expect(both.body.dag_runs[0].task_instances).toEqual(perRun.filter((t: { task_id: string }) => t.task_id === "each"));
      // r2 has not expanded yet: its `each` is the map_index -1 task instance.
      expect(both.body.dag_runs[1].task_instances).toEqual([expect.objectContaining({ task_id: "each", map_index: -1, state: null })]);
      // Without task_id, every task of the named runs.
      expect((await h.json("GET", `${WINDOW}?dag_run_id=r1`)).body.dag_runs[0].task_instances).toEqual(perRun);
      expect((await h.json("GET", WINDOW)).status).toBe(422);
      const many = Array.from({ length: 1001 }, (_, i) => `task_id=t${i}`).join("&");
      expect((await h.json("GET", `${WINDOW}?dag_run_id=r1&${many}`)).status).toBe(422);
      expect((await h.json("GET", `${WINDOW}?dag_run_id=nope`)).status).toBe(404);
      expect((await h.json("GET", "/api/v2/leoflow/dags/nope/taskInstanceSummaries?dag_run_id=r1")).status).toBe(404);
    });
  });
});
