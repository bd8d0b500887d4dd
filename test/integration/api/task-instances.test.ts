import { describe, expect, test } from "bun:test";
import { etlRunStepping, forEachApiStore, NOW } from "./harness";

forEachApiStore((makeHarness) => {
  const RUN = "/api/v2/dags/etl/dagRuns/r1";
  const T = (s: number) => new Date(NOW.getTime() + s * 1000);

  /** A run r1 of etl whose `extract` is running try 2 on host w1, with 5 log lines on try 2 and 1 on try 1. */
  async function runningRun() {
    const h = await makeHarness();
    const { ti, step } = await etlRunStepping(h);
    await step("none", "scheduled");
    await step("scheduled", "queued", { queued_at: T(1) });
    await step("queued", "running", { start_date: T(2), hostname: "w1", pid: 42, executor: "subprocess", try_number: 2 });
    await h.store.appendLogs(ti.id, 1, 0, [{ timestamp: T(0), stream: "stdout", line: "first try" }]);
    await h.store.appendLogs(
      ti.id,
      2,
      0,
      [0, 1, 2, 3, 4].map((i) => ({ timestamp: T(3 + i), stream: i === 4 ? "stderr" : "stdout", line: `line ${i}` })),
    );
    return { h, ti };
  }

  describe("task instances", () => {
    test("list: one per task, Airflow's shape, state null for none", async () => {
      const { h } = await runningRun();
      const r = await h.json("GET", `${RUN}/taskInstances`);
      expect(r.status).toBe(200);
      expect(r.body.total_entries).toBe(2);
      const [extract, load] = r.body.task_instances;
      expect(extract).toMatchObject({
        task_id: "extract",
        dag_id: "etl",
        dag_run_id: "r1",
        map_index: -1,
        logical_date: "2026-02-28T00:00:00.000Z",
        state: "running",
        try_number: 2,
        max_tries: 2,
        hostname: "w1",
        pid: 42,
        executor: "subprocess",
        pool: "default_pool",
        pool_slots: 1,
        priority_weight: 2,
        operator: "bash",
        queued_when: T(1).toISOString(),
        start_date: T(2).toISOString(),
        end_date: null,
        duration: null,
      });
      expect(load).toMatchObject({ task_id: "load", state: null, try_number: 1, start_date: null });
    });

    test("list pages; 404 for an unknown run", async () => {
      const { h } = await runningRun();
      const r = await h.json("GET", `${RUN}/taskInstances?limit=1&offset=1&order_by=task_id`);
      expect(r.body.task_instances.map((t: any) => t.task_id)).toEqual(["load"]);
      expect(r.body.total_entries).toBe(2);
      expect((await h.call("GET", "/api/v2/dags/etl/dagRuns/nope/taskInstances")).status).toBe(404);
    });

    test("get one; 404 for an unknown task", async () => {
      const { h } = await runningRun();
      expect((await h.json("GET", `${RUN}/taskInstances/extract`)).body.state).toBe("running");
      const r = await h.json("GET", `${RUN}/taskInstances/nope`);
      expect(r.status).toBe(404);
      expect(r.body.detail).toContain("task_id: `nope`");
    });
  });

  describe("logs", () => {
    const LOGS = `${RUN}/taskInstances/extract/logs`;

    test("JSON: structured lines and a continuation token", async () => {
      const { h } = await runningRun();
      const r = await h.json("GET", `${LOGS}/2`);
      expect(r.status).toBe(200);
      expect(r.body.content).toHaveLength(5);
      expect(r.body.content[0]).toEqual({ timestamp: T(3).toISOString(), event: "line 0", stream: "stdout" });
      expect(r.body.content[4].stream).toBe("stderr");
      expect(r.body.continuation_token).toBe("4");
    });

    test("paging with limit and token, and following a running task", async () => {
      const { h, ti } = await runningRun();
      const p1 = await h.json("GET", `${LOGS}/2?limit=2`);
      expect(p1.body.content.map((l: any) => l.event)).toEqual(["line 0", "line 1"]);
      const p2 = await h.json("GET", `${LOGS}/2?limit=2&token=${p1.body.continuation_token}`);
      expect(p2.body.content.map((l: any) => l.event)).toEqual(["line 2", "line 3"]);
      const p3 = await h.json("GET", `${LOGS}/2?token=${p2.body.continuation_token}`);
      expect(p3.body.content.map((l: any) => l.event)).toEqual(["line 4"]);
      // nothing new yet: same token back, so the client can keep polling
      const idle = await h.json("GET", `${LOGS}/2?token=${p3.body.continuation_token}`);
      expect(idle.body).toEqual({ content: [], continuation_token: "4" });
      await h.store.appendLogs(ti.id, 2, 5, [{ timestamp: T(9), stream: "stdout", line: "late" }]);
      const more = await h.json("GET", `${LOGS}/2?token=4`);
      expect(more.body).toEqual({ content: [{ timestamp: T(9).toISOString(), event: "late", stream: "stdout" }], continuation_token: "5" });
    });

    test("full_content reads past one page; map_index -1 is the task, any other is 404", async () => {
      const { h } = await runningRun();
      const all = await h.json("GET", `${LOGS}/2?limit=1&full_content=true`);
      expect(all.body.content).toHaveLength(5);
      expect(all.body.continuation_token).toBe("4");
      expect((await h.json("GET", `${LOGS}/2?map_index=-1`)).status).toBe(200);
      const mapped = await h.json("GET", `${LOGS}/2?map_index=2`);
      expect(mapped.status).toBe(404);
      expect(mapped.body.detail).toContain("map_index: `2` was not found");
    });

    test("tries are separate", async () => {
      const { h } = await runningRun();
      const r = await h.json("GET", `${LOGS}/1`);
      expect(r.body.content.map((l: any) => l.event)).toEqual(["first try"]);
    });

    test("text/plain gives one line per log line and the token in a header", async () => {
      const { h } = await runningRun();
      const res = await h.call("GET", `${LOGS}/2?limit=2`, { headers: { Accept: "text/plain" } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toStartWith("text/plain");
      expect(res.headers.get("x-continuation-token")).toBe("1");
      expect(await res.text()).toBe(`[${T(3).toISOString()}] {stdout} line 0\n[${T(4).toISOString()}] {stdout} line 1\n`);
    });

    test("ndjson gives one JSON object per line", async () => {
      const { h } = await runningRun();
      const res = await h.call("GET", `${LOGS}/1`, { headers: { Accept: "application/x-ndjson" } });
      expect(res.headers.get("content-type")).toBe("application/x-ndjson");
      expect(
        (await res.text())
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l).event),
      ).toEqual(["first try"]);
    });

    test.each([
      ["0", 404],
      ["3", 404],
      ["x", 422],
    ])("try_number %s → %d", async (tryNumber, status) => {
      const { h } = await runningRun();
      const r = await h.json("GET", `${LOGS}/${tryNumber}`);
      expect(r.status).toBe(status);
      if (status === 404) expect(r.body.detail).toContain("tries run from 1 to 2");
    });

    test("a forged token is 422", async () => {
      const { h } = await runningRun();
      expect((await h.call("GET", `${LOGS}/2?token=abc`)).status).toBe(422);
    });
  });

  describe("xcom", () => {
    async function withXComs() {
      const { h } = await runningRun();
      await h.store.setXCom({ team: "default", dag_id: "etl", run_id: "r1", task_id: "extract", key: "return_value" }, { rows: 42 }, T(5));
      await h.store.setXCom({ team: "default", dag_id: "etl", run_id: "r1", task_id: "extract", key: "stats" }, [1, 2], T(5));
      await h.store.setXCom({ team: "default", dag_id: "etl", run_id: "r1", task_id: "load", key: "return_value" }, "ok", T(6));
      return h;
    }

    test("list a task's entries (no values), or every task's with ~", async () => {
      const h = await withXComs();
      const r = await h.json("GET", `${RUN}/taskInstances/extract/xcomEntries`);
      expect(r.status).toBe(200);
      expect(r.body.total_entries).toBe(2);
      expect(r.body.xcom_entries[0]).toEqual({
        key: "return_value",
        timestamp: T(5).toISOString(),
        logical_date: "2026-02-28T00:00:00.000Z",
        run_after: "2026-02-28T00:00:00.000Z",
        map_index: -1,
        task_id: "extract",
        dag_id: "etl",
        run_id: "r1",
        dag_display_name: "etl",
        task_display_name: "extract",
      });
      const all = await h.json("GET", `${RUN}/taskInstances/~/xcomEntries`);
      expect(all.body.total_entries).toBe(3);
      const byKey = await h.json("GET", `${RUN}/taskInstances/~/xcomEntries?xcom_key=return_value`);
      expect(byKey.body.xcom_entries.map((x: any) => x.task_id)).toEqual(["extract", "load"]);
    });

    test("get one entry with its JSON value; 404 for an unknown key or task", async () => {
      const h = await withXComs();
      const r = await h.json("GET", `${RUN}/taskInstances/extract/xcomEntries/return_value`);
      expect(r.status).toBe(200);
      expect(r.body.value).toEqual({ rows: 42 });
      const missing = await h.json("GET", `${RUN}/taskInstances/extract/xcomEntries/nope`);
      expect(missing.status).toBe(404);
      expect(missing.body.detail).toContain("`nope`");
      expect((await h.call("GET", `${RUN}/taskInstances/ghost/xcomEntries`)).status).toBe(404);
    });
  });
});
