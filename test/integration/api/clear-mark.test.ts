/** Marking by hand: PATCH …/taskInstances/{task_id} (new_state, note) and PATCH …/dagRuns/{dag_run_id} (state, note). */
import { describe, expect, test } from "bun:test";
import { forEachApiStore } from "./harness";
import { setStates, tiStates, trigger } from "./clear-helpers";

forEachApiStore((makeHarness) => {
  const ti = (runId: string, task: string) => `/api/v2/dags/etl/dagRuns/${runId}/taskInstances/${task}`;

  describe("PATCH …/taskInstances/{task_id}", () => {
    test("marking a failed task success answers Airflow's collection, wakes the scheduler, and resumes its upstream_failed downstream", async () => {
      const h = await makeHarness();
      const runId = await trigger(h, "etl");
      await setStates(h, "etl", runId, { extract: "failed" });
      const run = (await h.store.getDagRun("default", "etl", runId))!;
      const load = (await h.store.getTaskInstance("default", "etl", runId, "load"))!;
      await h.store.applyTransitions([{ id: load.id, from: ["none"], to: "upstream_failed" }], new Date());
      await h.store.setDagRunState(run.id, ["queued"], "failed", new Date(), "task(s) failed: extract");
      h.wakes.length = 0;

      const r = await h.json("PATCH", ti(runId, "extract"), { body: { new_state: "SUCCESS", note: "data fixed upstream" } });
      expect(r.status).toBe(200);
      expect(r.body.total_entries).toBe(1);
      expect(r.body.task_instances[0]).toMatchObject({ task_id: "extract", state: "success", note: "data fixed upstream" });
      expect((await tiStates(h, "etl", runId)).load).toEqual({ state: "none", try_number: 1, max_tries: 2 });
      // Queued again without the scheduler's note on the failure it is leaving (a user's note would stay).
      expect((await h.store.getDagRun("default", "etl", runId))!).toMatchObject({ state: "queued", note: null });
      expect(h.wakes).toEqual([run.id]);
    });

    test("marking a running task failed stops its agent (the heartbeat is refused) and says so in its try's log", async () => {
      const h = await makeHarness();
      const runId = await trigger(h, "etl");
      await setStates(h, "etl", runId, { extract: "running" });
      const extract = (await h.store.getTaskInstance("default", "etl", runId, "extract"))!;
      await h.store.appendLogs(extract.id, 1, 0, [{ timestamp: new Date(), stream: "stdout", line: "tick 1" }]);
      const r = await h.json("PATCH", ti(runId, "extract"), { body: { new_state: "failed" } });
      expect(r.body.task_instances[0]).toMatchObject({ state: "failed" });
      // Final, as in Airflow: its two retries are spent, so the scheduler does not start try 2.
      expect((await tiStates(h, "etl", runId)).extract).toEqual({ state: "failed", try_number: 1, max_tries: 0 });
      expect(await h.store.heartbeat(extract.id, 1, new Date())).toBe(false);
      // The agent's own lines are refused from now on: without this one the log would just stop at "tick 1".
      expect((await h.store.readLogs(extract.id, 1)).map((l) => [l.seq, l.stream, l.line])).toEqual([
        [0, "stdout", "tick 1"],
        [
          1,
          "leoflow",
          expect.stringMatching(
            /^marked failed (by \S+ )?through the API while this try was running: its agent is told to stop the task at its next heartbeat$/,
          ),
        ],
      ]);
    });

    test("a note alone changes only the note", async () => {
      const h = await makeHarness();
      const runId = await trigger(h, "etl");
      const r = await h.json("PATCH", ti(runId, "extract"), { body: { note: "look at this" } });
      expect(r.body.task_instances[0]).toMatchObject({ state: null, note: "look at this" });
    });

    test("update_mask limits what changes", async () => {
      const h = await makeHarness();
      const runId = await trigger(h, "etl");
      const r = await h.json("PATCH", `${ti(runId, "extract")}?update_mask=note`, { body: { new_state: "success", note: "only this" } });
      expect(r.body.task_instances[0]).toMatchObject({ state: null, note: "only this" });
    });

    test("already in that state → 409", async () => {
      const h = await makeHarness();
      const runId = await trigger(h, "etl");
      await setStates(h, "etl", runId, { extract: "success" });
      expect(await h.json("PATCH", ti(runId, "extract"), { body: { new_state: "success" } })).toEqual({
        status: 409,
        body: { detail: "Task id extract is already in success state" },
      });
    });

    test.each([
      ["a state one may not set", { new_state: "running" }],
      ["include_future", { new_state: "success", include_future: true }],
      ["an unknown field", { new_state: "success", dry_run: true }],
    ])("bad body (%s) → 422", async (_name, body) => {
      const h = await makeHarness();
      const runId = await trigger(h, "etl");
      expect((await h.json("PATCH", ti(runId, "extract"), { body })).status).toBe(422);
    });

    test("unknown task → 404", async () => {
      const h = await makeHarness();
      const runId = await trigger(h, "etl");
      expect((await h.json("PATCH", ti(runId, "nope"), { body: { new_state: "success" } })).status).toBe(404);
    });
  });

  describe("PATCH …/dagRuns/{dag_run_id}", () => {
    test("failed: running task instances fail, unfinished ones are skipped, the run fails with the note", async () => {
      const h = await makeHarness();
      const runId = await trigger(h, "etl");
      await setStates(h, "etl", runId, { extract: "running" });
      const r = await h.json("PATCH", `/api/v2/dags/etl/dagRuns/${runId}`, { body: { state: "failed", note: "stopped by ops" } });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ state: "failed", note: "stopped by ops" });
      expect(r.body.end_date).not.toBeNull();
      const states = await tiStates(h, "etl", runId);
      expect([states.extract!.state, states.load!.state]).toEqual(["failed", "skipped"]);
      const extract = (await h.store.getTaskInstance("default", "etl", runId, "extract"))!;
      expect((await h.store.readLogs(extract.id, 1)).map((l) => l.line)).toEqual([
        expect.stringMatching(
          /^marked failed (by \S+ )?through the API while this try was running: its agent is told to stop the task at its next heartbeat$/,
        ),
      ]);
      const load = (await h.store.getTaskInstance("default", "etl", runId, "load"))!;
      expect(await h.store.readLogs(load.id, 1)).toEqual([]); // it never ran: nothing to say
    });

    test("success: every task instance succeeds; queued: the run is queued again", async () => {
      const h = await makeHarness();
      const runId = await trigger(h, "etl");
      await setStates(h, "etl", runId, { extract: "failed" });
      const ok = await h.json("PATCH", `/api/v2/dags/etl/dagRuns/${runId}`, { body: { state: "success" } });
      expect(ok.body.state).toBe("success");
      const states = await tiStates(h, "etl", runId);
      expect([states.extract!.state, states.load!.state]).toEqual(["success", "success"]);
      const again = await h.json("PATCH", `/api/v2/dags/etl/dagRuns/${runId}`, { body: { state: "queued" } });
      expect(again.body).toMatchObject({ state: "queued", end_date: null, start_date: null });
    });

    test("a note alone keeps the state", async () => {
      const h = await makeHarness();
      const runId = await trigger(h, "etl");
      const r = await h.json("PATCH", `/api/v2/dags/etl/dagRuns/${runId}`, { body: { note: "hello" } });
      expect(r.body).toMatchObject({ state: "queued", note: "hello" });
    });

    test("bad state → 422; unknown run → 404", async () => {
      const h = await makeHarness();
      const runId = await trigger(h, "etl");
      const bad = await h.json("PATCH", `/api/v2/dags/etl/dagRuns/${runId}`, { body: { state: "running" } });
      expect(bad.status).toBe(422);
      expect(bad.body.detail[0].msg).toBe("state must be one of queued, success, failed");
      expect((await h.json("PATCH", "/api/v2/dags/etl/dagRuns/nope", { body: { state: "failed" } })).status).toBe(404);
    });
  });
});
