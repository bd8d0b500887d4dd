import { describe, expect, test } from "bun:test";
import { forEachApiStore } from "./harness";
import { setStates, tiStates, trigger } from "./clear-helpers";

forEachApiStore((makeHarness) => {
  const CLEAR = "/api/v2/dags/etl/clearTaskInstances";

  async function failedRun() {
    const h = await makeHarness();
    const runId = await trigger(h, "etl");
    await setStates(h, "etl", runId, { extract: "success", load: "failed" });
    const run = (await h.store.getDagRun("default", "etl", runId))!;
    await h.store.setDagRunState(run.id, ["queued"], "failed", new Date());
    await h.store.setXCom({ team: "default", dag_id: "etl", run_id: runId, task_id: "extract", key: "return_value" }, 42, new Date());
    h.wakes.length = 0;
    return { h, runId, run };
  }

  describe("POST /api/v2/dags/{dag_id}/clearTaskInstances", () => {
    test("dry_run (the default) lists failed task instances (only_failed defaults to true) and changes nothing", async () => {
      const { h, runId } = await failedRun();
      const r = await h.json("POST", CLEAR, { body: { dag_run_id: runId } });
      expect(r.status).toBe(200);
      expect(r.body.total_entries).toBe(1);
      expect(r.body.task_instances[0]).toMatchObject({ task_id: "load", state: "failed", try_number: 1, dag_run_id: runId });
      expect((await h.store.getDagRun("default", "etl", runId))!.state).toBe("failed");
      expect(h.wakes).toEqual([]);
    });

    test("a clear with downstream re-runs the task and its downstream on new tries, deletes XComs and requeues the run", async () => {
      const { h, runId, run } = await failedRun();
      const r = await h.json("POST", CLEAR, {
        body: { dag_run_id: runId, task_ids: ["extract"], include_downstream: true, only_failed: false, dry_run: false },
      });
      expect(r.status).toBe(200);
      expect(r.body.task_instances.map((t: any) => [t.task_id, t.state, t.try_number, t.max_tries])).toEqual([
        ["extract", null, 2, 3],
        ["load", null, 2, 3],
      ]);
      expect(await tiStates(h, "etl", runId)).toEqual({
        extract: { state: "none", try_number: 2, max_tries: 3 },
        load: { state: "none", try_number: 2, max_tries: 3 },
      });
      const after = (await h.store.getDagRun("default", "etl", runId))!;
      expect(after).toMatchObject({ state: "queued", start_date: null, end_date: null });
      expect(await h.store.getXCom({ team: "default", dag_id: "etl", run_id: runId, task_id: "extract", key: "return_value" })).toBeNull();
      const ti = (await h.store.getTaskInstance("default", "etl", runId, "extract"))!;
      expect(ti).toMatchObject({ hostname: null, start_date: null, end_date: null, note: null });
      expect(h.wakes).toEqual([run.id]);
    });

    test("reset_dag_runs false leaves the finished run as it is", async () => {
      const { h, runId } = await failedRun();
      await h.json("POST", CLEAR, { body: { dag_run_id: runId, dry_run: false, reset_dag_runs: false } });
      expect((await h.store.getDagRun("default", "etl", runId))!.state).toBe("failed");
      expect((await tiStates(h, "etl", runId)).load).toEqual({ state: "none", try_number: 2, max_tries: 3 });
    });

    test("a running task instance is cleared onto a new try, so its agent's heartbeat is refused and it stops", async () => {
      const h = await makeHarness();
      const runId = await trigger(h, "etl");
      await setStates(h, "etl", runId, { extract: "running" });
      const ti = (await h.store.getTaskInstance("default", "etl", runId, "extract"))!;
      expect(await h.store.heartbeat(ti.id, 1, new Date())).toBe(true);
      await h.json("POST", CLEAR, { body: { dag_run_id: runId, only_running: true, only_failed: false, dry_run: false } });
      expect(await h.store.heartbeat(ti.id, 1, new Date())).toBe(false);
      expect((await h.store.getDagRun("default", "etl", runId))!.state).toBe("queued"); // an active run is not reset
      expect((await h.store.readLogs(ti.id, 1)).map((l) => [l.stream, l.line])).toEqual([
        [
          "leoflow",
          expect.stringMatching(
            /^cleared (by \S+ )?through the API while this try was running: its agent is told to stop the task at its next heartbeat$/,
          ),
        ],
      ]);
      expect(await h.store.readLogs(ti.id, 2)).toEqual([]); // the next try's log starts empty
    });

    test("prevent_running_task refuses to clear a running task instance", async () => {
      const h = await makeHarness();
      const runId = await trigger(h, "etl");
      await setStates(h, "etl", runId, { extract: "running" });
      const r = await h.json("POST", CLEAR, {
        body: { dag_run_id: runId, only_failed: false, prevent_running_task: true, dry_run: false },
      });
      expect(r.status).toBe(409);
      expect(r.body.detail).toContain(`extract (${runId})`);
    });

    test("without dag_run_id, start_date/end_date select runs by logical date", async () => {
      const h = await makeHarness();
      const jan = await trigger(h, "etl", { logical_date: "2026-01-01T00:00:00Z" });
      const feb = await trigger(h, "etl", { logical_date: "2026-02-01T00:00:00Z" });
      await setStates(h, "etl", jan, { extract: "failed" });
      await setStates(h, "etl", feb, { extract: "failed" });
      const r = await h.json("POST", CLEAR, { body: { start_date: "2026-01-15T00:00:00Z", end_date: "2026-02-15T00:00:00Z" } });
      expect(r.body.task_instances.map((t: any) => t.dag_run_id)).toEqual([feb]);
      const all = await h.json("POST", CLEAR, { body: {} });
      expect(all.body.total_entries).toBe(2);
      const past = await h.json("POST", CLEAR, { body: { dag_run_id: feb, include_past: true } });
      expect(past.body.task_instances.map((t: any) => t.dag_run_id).sort()).toEqual([jan, feb].sort());
    });

    test.each([
      ["unknown DAG", "/api/v2/dags/nope/clearTaskInstances", {}, 404, "The Dag with ID: `nope` was not found"],
      ["unknown run", CLEAR, { dag_run_id: "nope" }, 404, "Dag Run id nope not found in dag etl"],
      ["unknown task", CLEAR, { task_ids: ["extract", "nope"] }, 404, "task(s) nope not found in DAG etl; its tasks are extract, load"],
    ])("%s → %i", async (_name, path, body, status, detail) => {
      const h = await makeHarness();
      expect(await h.json("POST", path, { body })).toEqual({ status, body: { detail } });
    });

    test("include_past on a run without logical date is a 400", async () => {
      const h = await makeHarness();
      const runId = await trigger(h, "etl");
      const r = await h.json("POST", CLEAR, { body: { dag_run_id: runId, include_past: true } });
      expect(r).toEqual({
        status: 400,
        body: { detail: "Cannot use include_past or include_future with no logical_date(e.g. manually or asset-triggered)." },
      });
    });

    test.each([
      ["only_failed and only_running", { only_failed: true, only_running: true }, ["body", "only_running"]],
      ["end before start", { start_date: "2026-02-01T00:00:00Z", end_date: "2026-01-01T00:00:00Z" }, ["body", "end_date"]],
      ["dag_run_id with dates", { dag_run_id: "r", start_date: "2026-01-01T00:00:00Z" }, ["body", "dag_run_id"]],
      ["empty task_ids", { task_ids: [] }, ["body", "task_ids"]],
      ["run_on_latest_version", { run_on_latest_version: true }, ["body", "run_on_latest_version"]],
      ["unknown field", { include_subdags: true }, ["body", "include_subdags"]],
    ])("bad body (%s) → 422", async (_name, body, loc) => {
      const h = await makeHarness();
      const r = await h.json("POST", CLEAR, { body });
      expect(r.status).toBe(422);
      expect(r.body.detail[0].loc).toEqual(loc);
    });

    test("a viewer may not clear", async () => {
      const h = await makeHarness();
      expect((await h.call("POST", CLEAR, { token: await h.token("viewer"), body: {} })).status).toBe(403);
    });
  });

  describe("POST /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/clear", () => {
    test("dry_run lists every task instance (only_failed defaults to false)", async () => {
      const { h, runId } = await failedRun();
      const r = await h.json("POST", `/api/v2/dags/etl/dagRuns/${runId}/clear`, { body: {} });
      expect(r.body.task_instances.map((t: any) => [t.task_id, t.state])).toEqual([
        ["extract", "success"],
        ["load", "failed"],
      ]);
    });

    test("a real clear answers with the run, queued again, its task instances on new tries", async () => {
      const { h, runId, run } = await failedRun();
      const r = await h.json("POST", `/api/v2/dags/etl/dagRuns/${runId}/clear`, { body: { dry_run: false, only_failed: true } });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ dag_run_id: runId, state: "queued", end_date: null });
      expect(await tiStates(h, "etl", runId)).toEqual({
        extract: { state: "success", try_number: 1, max_tries: 2 },
        load: { state: "none", try_number: 2, max_tries: 3 },
      });
      expect(h.wakes).toEqual([run.id]);
    });
  });
});
