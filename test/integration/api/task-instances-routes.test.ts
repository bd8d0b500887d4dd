import { describe, expect, test } from "bun:test";
import type { TaskState } from "../../../src/domain";
import { forEachApiStore, NOW } from "./harness";

forEachApiStore((makeHarness) => {
  const T = (s: number) => new Date(NOW.getTime() + s * 1000);
  const RUN = "/api/v2/dags/etl/dagRuns/r1";

  /** etl r1: extract succeeded on try 1 after 5 s on host w1, load waits; report q1: render never ran. */
  async function runs() {
    const h = await makeHarness();
    await h.call("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: "r1", logical_date: "2026-02-28T00:00:00Z" } });
    await h.call("POST", "/api/v2/dags/report/dagRuns", { body: { dag_run_id: "q1", logical_date: null } });
    const ti = (await h.store.getTaskInstance("default", "etl", "r1", "extract"))!;
    const step = (from: TaskState, to: TaskState, patch = {}) => h.store.applyTransitions([{ id: ti.id, from: [from], to, patch }], T(1));
    await step("none", "scheduled");
    await step("scheduled", "queued", { queued_at: T(1) });
    await step("queued", "running", { start_date: T(2), hostname: "w1", executor: "subprocess" });
    await step("running", "success", { end_date: T(7) });
    return { h, ti };
  }

  const keys = (body: any) => body.task_instances.map((t: any) => `${t.dag_id}/${t.dag_run_id}/${t.task_id}`);

  describe("GET …/taskInstances filters and ~", () => {
    test("task_id, state (none for not yet run), executor, duration, try_number", async () => {
      const { h } = await runs();
      expect(keys((await h.json("GET", `${RUN}/taskInstances?task_id=load`)).body)).toEqual(["etl/r1/load"]);
      expect(keys((await h.json("GET", `${RUN}/taskInstances?state=success`)).body)).toEqual(["etl/r1/extract"]);
      expect(keys((await h.json("GET", `${RUN}/taskInstances?state=none`)).body)).toEqual(["etl/r1/load"]);
      expect(keys((await h.json("GET", `${RUN}/taskInstances?executor=subprocess`)).body)).toEqual(["etl/r1/extract"]);
      expect(keys((await h.json("GET", `${RUN}/taskInstances?duration_gte=5&duration_lt=6`)).body)).toEqual(["etl/r1/extract"]);
      expect(keys((await h.json("GET", `${RUN}/taskInstances?duration_gt=5`)).body)).toEqual([]);
      expect((await h.json("GET", `${RUN}/taskInstances?try_number=1`)).body.total_entries).toBe(2);
      expect((await h.json("GET", `${RUN}/taskInstances?pool=default_pool&operator=bash`)).body.total_entries).toBe(2);
      // Airflow's default order_by, map_index, is accepted (every Leoflow task instance has -1).
      expect(keys((await h.json("GET", `${RUN}/taskInstances?order_by=-map_index`)).body)).toEqual(["etl/r1/load", "etl/r1/extract"]);
    });

    test("order_by takes Airflow's fields of the run and of the try too: duration, logical_date, run_after, …", async () => {
      const { h } = await runs();
      const order = async (by: string) => {
        const r = await h.json("GET", `/api/v2/dags/~/dagRuns/~/taskInstances?order_by=${by}`);
        expect(r.status).toBe(200);
        return keys(r.body);
      };
      // Only extract has a duration (5 s); nulls sort last ascending, first descending (ties by id).
      expect(await order("duration")).toEqual(["etl/r1/extract", "etl/r1/load", "report/q1/render"]);
      expect(await order("-duration")).toEqual(["report/q1/render", "etl/r1/load", "etl/r1/extract"]);
      // q1 has no logical date; its run_after is when it was queued (NOW), after r1's 2026-02-28.
      expect(await order("logical_date")).toEqual(["etl/r1/extract", "etl/r1/load", "report/q1/render"]);
      expect(await order("run_after")).toEqual(["etl/r1/extract", "etl/r1/load", "report/q1/render"]);
      expect(await order("-run_after")).toEqual(["report/q1/render", "etl/r1/load", "etl/r1/extract"]);
      for (const by of ["data_interval_start", "-data_interval_end", "rendered_map_index", "-rendered_map_index", "-logical_date"])
        expect(await order(by)).toHaveLength(3);
    });

    test("dates, a queue or map index no task has, bad values are 422 naming the field", async () => {
      const { h } = await runs();
      expect(keys((await h.json("GET", `${RUN}/taskInstances?start_date_gte=${T(2).toISOString()}`)).body)).toEqual(["etl/r1/extract"]);
      expect(keys((await h.json("GET", `/api/v2/dags/~/dagRuns/~/taskInstances?logical_date_gte=2026-02-28`)).body)).toEqual([
        "etl/r1/extract",
        "etl/r1/load",
      ]);
      expect((await h.json("GET", `${RUN}/taskInstances?queue=default`)).body.total_entries).toBe(0);
      expect((await h.json("GET", `${RUN}/taskInstances?map_index=-1`)).body.total_entries).toBe(2);
      expect((await h.json("GET", `${RUN}/taskInstances?map_index=0`)).body.total_entries).toBe(0);
      for (const [q, field] of [
        ["state=done", "state"],
        ["start_date_gte=yesterday", "start_date_gte"],
        ["duration_gte=long", "duration_gte"],
      ]) {
        const r = await h.json("GET", `${RUN}/taskInstances?${q}`);
        expect(r.status).toBe(422);
        expect(r.body.detail[0].loc.slice(0, 2)).toEqual(["query", field]);
      }
    });

    test("~ for the run, for both, and a run id under every DAG is 422", async () => {
      const { h } = await runs();
      expect((await h.json("GET", "/api/v2/dags/etl/dagRuns/~/taskInstances")).body.total_entries).toBe(2);
      const all = await h.json("GET", "/api/v2/dags/~/dagRuns/~/taskInstances?order_by=task_id");
      expect(keys(all.body)).toEqual(["etl/r1/extract", "etl/r1/load", "report/q1/render"]);
      expect((await h.json("GET", "/api/v2/dags/~/dagRuns/r1/taskInstances")).status).toBe(422);
      expect((await h.json("GET", "/api/v2/dags/nope/dagRuns/~/taskInstances")).status).toBe(404);
    });
  });

  describe("POST /dags/~/dagRuns/~/taskInstances/list", () => {
    test("filters in the body across DAGs and runs", async () => {
      const { h } = await runs();
      const r = await h.json("POST", "/api/v2/dags/~/dagRuns/~/taskInstances/list", {
        body: { dag_ids: ["etl", "report"], state: [null], order_by: "task_id" },
      });
      expect(r.status).toBe(200);
      expect(keys(r.body)).toEqual(["etl/r1/load", "report/q1/render"]);
      const byRun = await h.json("POST", "/api/v2/dags/~/dagRuns/~/taskInstances/list", {
        body: { dag_run_ids: ["q1"], task_ids: ["render"] },
      });
      expect(keys(byRun.body)).toEqual(["report/q1/render"]);
      expect((await h.json("POST", "/api/v2/dags/etl/dagRuns/~/taskInstances/list", { body: {} })).status).toBe(422);
    });
  });

  describe("map_index addressing", () => {
    test("-1 is an unmapped task's instance; any other index is 404; listMapped is 404 for it", async () => {
      const { h } = await runs();
      const r = await h.json("GET", `${RUN}/taskInstances/extract/-1`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ task_id: "extract", map_index: -1, state: "success" });
      const other = await h.json("GET", `${RUN}/taskInstances/extract/0`);
      expect(other.status).toBe(404);
      expect(other.body.detail).toContain("map_index: `0` was not found");
      expect((await h.json("GET", `${RUN}/taskInstances/extract/listMapped`)).status).toBe(404);
    });

    test("PATCH by map index and dry_run: the dry run writes nothing", async () => {
      const { h } = await runs();
      const dry = await h.json("PATCH", `${RUN}/taskInstances/load/dry_run`, { body: { new_state: "success" } });
      expect(dry.status).toBe(200);
      expect(keys(dry.body)).toEqual(["etl/r1/load"]);
      expect(dry.body.task_instances[0].state).toBeNull();
      expect((await h.store.getTaskInstance("default", "etl", "r1", "load"))!.state).toBe("none");
      const mapped = await h.json("PATCH", `${RUN}/taskInstances/load/-1`, { body: { new_state: "success" } });
      expect(mapped.status).toBe(200);
      expect(mapped.body.task_instances[0].state).toBe("success");
      expect((await h.json("PATCH", `${RUN}/taskInstances/load/3/dry_run`, { body: { new_state: "failed" } })).status).toBe(404);
    });
  });

  describe("tries", () => {
    test("a cleared task lists its earlier try from history, then the current one", async () => {
      const { h } = await runs();
      const clear = await h.json("POST", `${RUN}/clear`, { body: { dry_run: false } });
      expect(clear.status).toBe(200);
      const r = await h.json("GET", `${RUN}/taskInstances/extract/tries`);
      expect(r.status).toBe(200);
      expect(r.body.total_entries).toBe(2);
      expect(r.body.task_instances.map((t: any) => [t.try_number, t.state, t.hostname])).toEqual([
        [1, "success", "w1"],
        [2, null, null],
      ]);
      expect(r.body.task_instances[0]).toMatchObject({ duration: 5, start_date: T(2).toISOString(), map_index: -1 });
      expect(r.body.task_instances[0].id).toBeUndefined();
      const one = await h.json("GET", `${RUN}/taskInstances/extract/-1/tries/1`);
      expect(one.body).toMatchObject({ try_number: 1, state: "success" });
      const none = await h.json("GET", `${RUN}/taskInstances/extract/tries/7`);
      expect(none.status).toBe(404);
      expect(none.body.detail).toContain("its tries are 1, 2");
    });
  });

  describe("dependencies", () => {
    test("a waiting task names its unfinished upstream and its queued run; a finished one has none", async () => {
      const { h } = await runs();
      const load = await h.json("GET", `${RUN}/taskInstances/load/dependencies`);
      expect(load.status).toBe(200);
      expect(load.body.dependencies.map((d: any) => d.name)).toEqual(["Dagrun Running"]);
      const render = await h.json("GET", "/api/v2/dags/report/dagRuns/q1/taskInstances/render/dependencies");
      expect(render.body.dependencies.map((d: any) => d.name)).toEqual(["Dag Not Paused", "Dagrun Running"]);
      expect((await h.json("GET", `${RUN}/taskInstances/extract/dependencies`)).body).toEqual({ dependencies: [] });
    });
  });

  describe("PATCH …/taskInstances (bulk)", () => {
    test("update entities mark each task; unknown tasks and create/delete answer errors, and nothing else changes", async () => {
      const { h } = await runs();
      const r = await h.json("PATCH", `${RUN}/taskInstances`, {
        body: {
          actions: [
            {
              action: "update",
              entities: [
                { task_id: "load", new_state: "failed", note: "bad input" },
                { task_id: "nope", new_state: "success" },
              ],
            },
            { action: "delete", entities: ["extract"] },
          ],
        },
      });
      expect(r.status).toBe(200);
      expect(r.body.update.success).toEqual(["load"]);
      expect(r.body.update.errors.map((e: any) => e.status_code)).toEqual([404]);
      expect(r.body.delete.errors[0].status_code).toBe(405);
      expect(r.body.create).toBeNull();
      const load = (await h.store.getTaskInstance("default", "etl", "r1", "load"))!;
      expect([load.state, load.user_note]).toEqual(["failed", "bad input"]);
      expect(await h.store.getTaskInstance("default", "etl", "r1", "extract")).not.toBeNull();
      const skip = await h.json("PATCH", `${RUN}/taskInstances`, {
        body: { actions: [{ action: "update", action_on_non_existence: "skip", entities: [{ task_id: "nope", note: "x" }] }] },
      });
      expect(skip.body.update).toEqual({ success: [], errors: [] });
    });

    test("a bad body is 422 naming the field; a viewer may not", async () => {
      const { h } = await runs();
      const bad = await h.json("PATCH", `${RUN}/taskInstances`, {
        body: { actions: [{ action: "update", entities: [{ new_state: "success" }] }] },
      });
      expect(bad.status).toBe(422);
      expect(bad.body.detail[0].loc).toEqual(["body", "actions", 0, "entities", 0, "task_id"]);
      const viewer = await h.call("PATCH", `${RUN}/taskInstances`, { body: { actions: [] }, token: await h.token("viewer") });
      expect(viewer.status).toBe(403);
    });
  });

  describe("what Leoflow has none of", () => {
    test("upstream asset events and extra links are empty; an external log URL is 400 pointing at the logs", async () => {
      const { h } = await runs();
      expect((await h.json("GET", `${RUN}/upstreamAssetEvents`)).body).toEqual({ asset_events: [], total_entries: 0 });
      expect((await h.json("GET", `${RUN}/taskInstances/extract/links`)).body).toEqual({ extra_links: {}, total_entries: 0 });
      const url = await h.json("GET", `${RUN}/taskInstances/extract/externalLogUrl/1`);
      expect(url.status).toBe(400);
      expect(url.body.detail).toContain("/logs/1");
      expect((await h.json("GET", `${RUN}/taskInstances/nope/links`)).status).toBe(404);
      expect((await h.json("GET", "/api/v2/dags/etl/dagRuns/nope/upstreamAssetEvents")).status).toBe(404);
    });

    test("PATCH with a map_index query other than -1 is 404", async () => {
      const { h } = await runs();
      expect((await h.json("PATCH", `${RUN}/taskInstances/load?map_index=2`, { body: { note: "x" } })).status).toBe(404);
      expect((await h.json("PATCH", `${RUN}/taskInstances/load?map_index=-1`, { body: { note: "x" } })).status).toBe(200);
    });
  });
});
