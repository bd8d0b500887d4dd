/** /api/v2/backfills: Airflow 3's shapes and errors, over a real store (NOW = 2026-03-01T12:00Z, etl is @daily). */
import { describe, expect, test } from "bun:test";
import { forEachApiStore } from "./harness";

forEachApiStore((makeHarness) => {
  const body = (over: Record<string, unknown> = {}) => ({
    dag_id: "etl",
    from_date: "2026-02-01T00:00:00Z",
    to_date: "2026-02-03T00:00:00Z",
    max_active_runs: 2,
    ...over,
  });

  describe("POST /api/v2/backfills", () => {
    test("creates a backfill (BackfillResponse) and one queued backfill run per day in the range", async () => {
      const h = await makeHarness();
      const r = await h.json("POST", "/api/v2/backfills", { body: body({ dag_run_conf: { limit: 3 } }) });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        id: expect.any(Number),
        dag_id: "etl",
        from_date: "2026-02-01T00:00:00.000Z",
        to_date: "2026-02-03T00:00:00.000Z",
        dag_run_conf: { limit: 3 },
        is_paused: false,
        reprocess_behavior: "none",
        max_active_runs: 2,
        selected_task_ids: null,
        created_at: "2026-03-01T12:00:00.000Z",
        completed_at: null,
        updated_at: "2026-03-01T12:00:00.000Z",
        dag_display_name: "etl",
      });
      expect(h.wakes).toEqual([undefined]);
      const runs = await h.json("GET", "/api/v2/dags/etl/dagRuns?order_by=logical_date");
      expect(
        runs.body.dag_runs.map((x: any) => [x.dag_run_id, x.run_type, x.state, x.data_interval_start, x.data_interval_end, x.conf]),
      ).toEqual([
        ["backfill__2026-02-01T00:00:00+00:00", "backfill", "queued", "2026-02-01T00:00:00.000Z", "2026-02-02T00:00:00.000Z", { limit: 3 }],
        ["backfill__2026-02-02T00:00:00+00:00", "backfill", "queued", "2026-02-02T00:00:00.000Z", "2026-02-03T00:00:00.000Z", { limit: 3 }],
        ["backfill__2026-02-03T00:00:00+00:00", "backfill", "queued", "2026-02-03T00:00:00.000Z", "2026-02-04T00:00:00.000Z", { limit: 3 }],
      ]);
    });

    test("run_backwards creates the newest slot first (it starts first)", async () => {
      const h = await makeHarness();
      await h.json("POST", "/api/v2/backfills", { body: body({ run_backwards: true }) });
      const runs = await h.json("GET", "/api/v2/dags/etl/dagRuns?order_by=id");
      expect(runs.body.dag_runs.map((x: any) => x.logical_date)).toEqual([
        "2026-02-03T00:00:00.000Z",
        "2026-02-02T00:00:00.000Z",
        "2026-02-01T00:00:00.000Z",
      ]);
    });

    test("reprocess_behavior none skips days that already have a finished run", async () => {
      const h = await makeHarness();
      await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: "earlier", logical_date: "2026-02-02T00:00:00Z" } });
      const earlier = (await h.store.getDagRun("default", "etl", "earlier"))!;
      await h.store.setDagRunState(earlier.id, ["queued"], "failed", new Date());
      await h.json("POST", "/api/v2/backfills", { body: body() });
      const runs = await h.json("GET", "/api/v2/dags/etl/dagRuns?order_by=id");
      expect(runs.body.dag_runs.map((x: any) => x.dag_run_id)).toEqual([
        "earlier",
        "backfill__2026-02-01T00:00:00+00:00",
        "backfill__2026-02-03T00:00:00+00:00",
      ]);
    });

    const errors: { name: string; body: Record<string, unknown>; status: number; detail: string | RegExp }[] = [
      {
        name: "from after to names both",
        body: body({ from_date: "2026-02-05T00:00:00Z" }),
        status: 400,
        detail: "from_date (2026-02-05T00:00:00.000Z) must not be after to_date (2026-02-03T00:00:00.000Z); swap them",
      },
      { name: "unknown DAG", body: body({ dag_id: "nope" }), status: 404, detail: "Could not find dag nope" },
      {
        name: "DAG without a schedule",
        body: body({ dag_id: "report" }),
        status: 400,
        detail: /DAG report has no periodic schedule \(schedule: null\)/,
      },
      {
        name: "range in the future",
        body: body({ from_date: "2026-04-01T00:00:00Z", to_date: "2026-05-01T00:00:00Z" }),
        status: 400,
        detail: /^Backfill cannot be executed for future dates/,
      },
      {
        name: "a range with no ended slot",
        body: body({ from_date: "2026-02-01T01:00:00Z", to_date: "2026-02-01T02:00:00Z" }),
        status: 400,
        detail: /no slot of DAG etl's schedule "@daily" \(UTC\) starts between/,
      },
      {
        name: "conf breaking a param",
        body: body({ dag_run_conf: { limit: 0 } }),
        status: 400,
        detail: /conf\.limit: 0 is less than the minimum 1/,
      },
      { name: "task_id_pattern", body: body({ task_id_pattern: "^a" }), status: 400, detail: /task_id_pattern is not supported/ },
    ];
    for (const c of errors)
      test(`error: ${c.name}`, async () => {
        const h = await makeHarness();
        const r = await h.json("POST", "/api/v2/backfills", { body: c.body });
        expect(r.status).toBe(c.status);
        if (typeof c.detail === "string") expect(r.body.detail).toBe(c.detail);
        else expect(r.body.detail).toMatch(c.detail);
        expect((await h.store.listDagRuns("default", { dag_id: "etl" })).total).toBe(0);
      });

    test("error: a bad body is a 422 naming the field", async () => {
      const h = await makeHarness();
      const r = await h.json("POST", "/api/v2/backfills", { body: body({ reprocess_behavior: "all", max_active_runs: 0 }) });
      expect(r.status).toBe(422);
      expect(r.body.detail.map((d: any) => d.loc.join("."))).toEqual(["body.reprocess_behavior", "body.max_active_runs"]);
    });

    test("error: a second backfill while one is running is a 409", async () => {
      const h = await makeHarness();
      const first = await h.json("POST", "/api/v2/backfills", { body: body() });
      const second = await h.json("POST", "/api/v2/backfills", {
        body: body({ from_date: "2026-01-01T00:00:00Z", to_date: "2026-01-02T00:00:00Z" }),
      });
      expect(second.status).toBe(409);
      expect(second.body.detail).toBe(
        `There is already a running backfill for dag etl (backfill ${first.body.id}); wait for it, or cancel it with PUT /api/v2/backfills/${first.body.id}/cancel`,
      );
    });

    test("a viewer may not create one", async () => {
      const h = await makeHarness();
      const r = await h.call("POST", "/api/v2/backfills", { body: body(), token: await h.token("viewer") });
      expect(r.status).toBe(403);
    });
  });

  describe("dry_run, list, get, pause, unpause, cancel", () => {
    test("dry_run lists the logical dates without creating anything", async () => {
      const h = await makeHarness();
      const r = await h.json("POST", "/api/v2/backfills/dry_run", { body: body() });
      expect(r.body).toEqual({
        backfills: ["2026-02-01", "2026-02-02", "2026-02-03"].map((day) => ({
          logical_date: `${day}T00:00:00.000Z`,
          partition_key: null,
          partition_date: null,
        })),
        total_entries: 3,
      });
      expect((await h.store.listDagRuns("default", { dag_id: "etl" })).total).toBe(0);
    });

    test("dry_run leaves out the dates the backfill would skip, as its reprocess_behavior says", async () => {
      const h = await makeHarness();
      // 02-02 failed, 02-03 succeeded (a later run for the same date wins: its first run failed).
      const day = async (runId: string, date: string, state: "failed" | "success") => {
        await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: runId, logical_date: date } });
        const run = (await h.store.getDagRun("default", "etl", runId))!;
        await h.store.setDagRunState(run.id, ["queued"], "running", new Date());
        await h.store.setDagRunState(run.id, ["running"], state, new Date());
      };
      await day("feb2", "2026-02-02T00:00:00Z", "failed");
      await day("feb3", "2026-02-03T00:00:00Z", "success");
      const dates = async (reprocess: string) =>
        (await h.json("POST", "/api/v2/backfills/dry_run", { body: body({ reprocess_behavior: reprocess }) })).body.backfills.map(
          (b: { logical_date: string }) => b.logical_date.slice(0, 10),
        );
      expect(await dates("none")).toEqual(["2026-02-01"]);
      expect(await dates("failed")).toEqual(["2026-02-01", "2026-02-02"]);
      expect(await dates("completed")).toEqual(["2026-02-01", "2026-02-02", "2026-02-03"]);
      // What the backfill then does agrees with its dry run.
      await h.json("POST", "/api/v2/backfills", { body: body({ reprocess_behavior: "failed" }) });
      const created = (await h.store.listDagRuns("default", { dag_id: "etl", run_type: ["backfill"], order_by: "logical_date" })).items;
      expect(created.map((r) => r.logical_date!.toISOString().slice(0, 10))).toEqual(["2026-02-01", "2026-02-02"]);
    });

    test("list by dag_id and get by id; unknown id is a 404", async () => {
      const h = await makeHarness();
      const { body: b } = await h.json("POST", "/api/v2/backfills", { body: body() });
      const list = await h.json("GET", "/api/v2/backfills?dag_id=etl");
      expect(list.body).toEqual({ backfills: [b], total_entries: 1 });
      expect((await h.json("GET", "/api/v2/backfills?dag_id=report")).body).toEqual({ backfills: [], total_entries: 0 });
      expect((await h.json("GET", `/api/v2/backfills/${b.id}`)).body).toEqual(b);
      const missing = await h.json("GET", "/api/v2/backfills/999");
      expect(missing).toEqual({ status: 404, body: { detail: "Could not find backfill with id 999" } });
      expect((await h.json("GET", "/api/v2/backfills")).status).toBe(422); // dag_id is required, as in Airflow
    });

    test("pause and unpause flip is_paused; unpause wakes the scheduler", async () => {
      const h = await makeHarness();
      const { body: b } = await h.json("POST", "/api/v2/backfills", { body: body() });
      expect((await h.json("PUT", `/api/v2/backfills/${b.id}/pause`)).body.is_paused).toBe(true);
      h.wakes.length = 0;
      expect((await h.json("PUT", `/api/v2/backfills/${b.id}/unpause`)).body.is_paused).toBe(false);
      expect(h.wakes).toEqual([undefined]);
    });

    test("cancel fails the queued runs and completes the backfill; then pause/cancel are 409", async () => {
      const h = await makeHarness();
      const { body: b } = await h.json("POST", "/api/v2/backfills", { body: body() });
      const first = (await h.store.getDagRun("default", "etl", "backfill__2026-02-01T00:00:00+00:00"))!;
      await h.store.setDagRunState(first.id, ["queued"], "running", new Date());
      const c = await h.json("PUT", `/api/v2/backfills/${b.id}/cancel`);
      expect(c.status).toBe(200);
      expect(c.body).toMatchObject({ is_paused: true, completed_at: "2026-03-01T12:00:00.000Z" });
      const runs = await h.json("GET", "/api/v2/dags/etl/dagRuns?order_by=logical_date");
      expect(runs.body.dag_runs.map((x: any) => [x.state, x.note])).toEqual([
        ["running", null],
        ["failed", `backfill ${b.id} cancelled`],
        ["failed", `backfill ${b.id} cancelled`],
      ]);
      for (const action of ["pause", "unpause", "cancel"]) {
        const r = await h.json("PUT", `/api/v2/backfills/${b.id}/${action}`);
        expect(r).toEqual({ status: 409, body: { detail: `Backfill ${b.id} is already completed (at 2026-03-01T12:00:00.000Z)` } });
      }
      expect((await h.json("PUT", "/api/v2/backfills/999/cancel")).status).toBe(404);
    });
  });
});
