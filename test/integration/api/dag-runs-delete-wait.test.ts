import { describe, expect, test } from "bun:test";
import { RunEnds } from "../../../src/events";
import { forEachApiStore } from "./harness";

forEachApiStore((makeHarness) => {
  async function withRun(runId = "r1") {
    const h = await makeHarness();
    await h.call("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: runId, logical_date: null } });
    return h;
  }

  describe("DELETE /dags/{dag_id}/dagRuns/{dag_run_id}", () => {
    test("deletes the run, its task instances and XComs; then it is 404", async () => {
      const h = await withRun();
      await h.json("POST", "/api/v2/dags/etl/dagRuns/r1/taskInstances/extract/xcomEntries", { body: { key: "k", value: 1 } });
      const r = await h.call("DELETE", "/api/v2/dags/etl/dagRuns/r1");
      expect(r.status).toBe(204);
      expect(await r.text()).toBe("");
      expect((await h.call("GET", "/api/v2/dags/etl/dagRuns/r1")).status).toBe(404);
      expect(await h.store.getTaskInstance("default", "etl", "r1", "extract")).toBeNull();
      expect(await h.store.getXCom({ team: "default", dag_id: "etl", run_id: "r1", task_id: "extract", key: "k" })).toBeNull();
      const again = await h.json("DELETE", "/api/v2/dags/etl/dagRuns/r1");
      expect(again.status).toBe(404);
      expect(again.body.detail).toContain("r1");
    });

    test("a viewer may not delete", async () => {
      const h = await withRun();
      expect((await h.call("DELETE", "/api/v2/dags/etl/dagRuns/r1", { token: await h.token("viewer") })).status).toBe(403);
    });
  });

  describe("GET /dags/{dag_id}/dagRuns/{dag_run_id}/wait", () => {
    test("a finished run answers one NDJSON line with its state and the requested results", async () => {
      const h = await withRun();
      await h.store.setXCom(
        { team: "default", dag_id: "etl", run_id: "r1", task_id: "load", key: "return_value" },
        { rows: 3 },
        new Date(),
      );
      await h.call("PATCH", "/api/v2/dags/etl/dagRuns/r1", { body: { state: "success" } });
      const r = await h.call("GET", "/api/v2/dags/etl/dagRuns/r1/wait?interval=1&result=load&result=extract");
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toStartWith("application/x-ndjson");
      const lines = (await r.text())
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines).toEqual([{ state: "success", results: { load: { rows: 3 }, extract: null } }]);
    });

    test("the last line comes when the run's end is written here, not at the next interval", async () => {
      const h = await makeHarness({ runEnds: new RunEnds() });
      await h.call("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: "r1", logical_date: null } });
      // An hour between checks: only the word that the run ended can answer within the test's time.
      const waiting = h.call("GET", "/api/v2/dags/etl/dagRuns/r1/wait?interval=3600").then((r) => r.text());
      await Bun.sleep(50);
      expect((await h.json("PATCH", "/api/v2/dags/etl/dagRuns/r1", { body: { state: "failed" } })).status).toBe(200);
      const lines = (await waiting)
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines).toEqual([{ state: "queued" }, { state: "failed" }]);
    });

    test("the stream asks the server to lift its idle timeout for it: silent between lines, it would be cut at 120 s", async () => {
      const h = await withRun();
      await h.call("PATCH", "/api/v2/dags/etl/dagRuns/r1", { body: { state: "success" } });
      const lifted: [string, number][] = [];
      const server = { timeout: (req: Request, seconds: number) => void lifted.push([new URL(req.url).pathname, seconds]) };
      const r = await h.call("GET", "/api/v2/dags/etl/dagRuns/r1/wait?interval=300", { env: server });
      expect(JSON.parse(await r.text())).toEqual({ state: "success" });
      expect(lifted).toEqual([["/api/v2/dags/etl/dagRuns/r1/wait", 0]]);
    });

    test("interval is required and positive; an unknown run is 404", async () => {
      const h = await withRun();
      const missing = await h.json("GET", "/api/v2/dags/etl/dagRuns/r1/wait");
      expect(missing.status).toBe(422);
      expect(missing.body.detail[0].loc).toEqual(["query", "interval"]);
      expect((await h.json("GET", "/api/v2/dags/etl/dagRuns/r1/wait?interval=0")).status).toBe(422);
      expect((await h.json("GET", "/api/v2/dags/etl/dagRuns/nope/wait?interval=1")).status).toBe(404);
    });
  });
});
