import { describe, expect, test } from "bun:test";
import { refusedConnectionError } from "../../support/db-refusal";
import { API_PREFIX, createApi } from "../../../src/api";
import { HEALTH_PATH, healthReport, startingHandler } from "../../../src/api/health";
import { silentLogger } from "../../../src/observability";
import type { Store } from "../../../src/store";
import { forEachApiStore, NOW } from "./harness";

forEachApiStore((makeHarness) => {
  describe("monitor", () => {
    test("version", async () => {
      const h = await makeHarness();
      expect((await h.json("GET", "/api/v2/version", { token: null })).body).toEqual({ version: "9.9.9", git_version: null });
    });

    test("health reports the store and the scheduler", async () => {
      const h = await makeHarness();
      const r = await h.json("GET", "/api/v2/monitor/health", { token: null });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        metadatabase: { status: "healthy" },
        scheduler: { status: "healthy", latest_scheduler_heartbeat: NOW.toISOString() },
      });
    });

    test("the health the server answers before the API has loaded is the route's, at the route's path", async () => {
      const h = await makeHarness();
      const r = await h.json("GET", HEALTH_PATH, { token: null });
      const early = await healthReport({
        store: h.store,
        scheduler: { health: () => ({ status: "healthy", latest_scheduler_heartbeat: NOW.toISOString() }) },
        logger: silentLogger,
      });
      expect(HEALTH_PATH).toBe(`${API_PREFIX}/monitor/health`);
      expect(r.body).toEqual(early);
    });

    test("while the server starts, /health answers from the store and other requests wait until it is wired", async () => {
      const h = await makeHarness();
      let scheduler: { health(): { status: "healthy" | "unhealthy"; latest_scheduler_heartbeat: string | null } } | undefined;
      const starting = startingHandler({ store: h.store, scheduler: () => scheduler, logger: silentLogger });
      const health = async () => (await starting.fetch(new Request(`http://leoflow${HEALTH_PATH}`))).json();
      // No scheduler built yet: reported as a replica that does not lead reports it.
      expect(await health()).toMatchObject({
        metadatabase: { status: "healthy" },
        scheduler: { status: "healthy", latest_scheduler_heartbeat: null },
      });
      scheduler = { health: () => ({ status: "healthy", latest_scheduler_heartbeat: NOW.toISOString() }) };
      expect((await health()).scheduler.latest_scheduler_heartbeat).toBe(NOW.toISOString());
      let answered = false;
      const dags = starting.fetch(new Request(`http://leoflow${API_PREFIX}/dags`)).then((r) => ((answered = true), r));
      await Bun.sleep(5);
      expect(answered).toBe(false);
      starting.ready((req) => Response.json({ path: new URL(req.url).pathname }));
      expect(await (await dags).json()).toEqual({ path: `${API_PREFIX}/dags` });
    });

    /** The API over a store double that has only `methods`, with a scheduler that says `status`. */
    const apiOver = (methods: Partial<Record<keyof Store, unknown>>, status: "healthy" | "unhealthy" = "healthy") =>
      createApi({
        store: methods as unknown as Store,
        tokens: null,
        version: "1",
        scheduler: { wake() {}, health: () => ({ status, latest_scheduler_heartbeat: null }) },
        logger: silentLogger,
      });

    test("a failing store makes metadatabase unhealthy, not the endpoint fail", async () => {
      const app = apiOver({ listImportErrors: () => Promise.reject(new Error("disk gone")) }, "unhealthy");
      const res = await app.request("/api/v2/monitor/health");
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        metadatabase: { status: "unhealthy" },
        scheduler: { status: "unhealthy", latest_scheduler_heartbeat: null },
      });
    });

    test("an unexpected error is a generic 500 JSON, never a stack in the body", async () => {
      const app = apiOver({ listDags: () => Promise.reject(new Error("secret internals")) });
      const res = await app.request("/api/v2/dags");
      expect(res.status).toBe(500);
      const body = await res.json();
      expect(body.detail).toStartWith("Internal Server Error");
      expect(JSON.stringify(body)).not.toContain("secret internals");
    });

    test("a database out of reach is a 503 saying so, with Retry-After, not a 500 to report", async () => {
      const refusal = await refusedConnectionError();
      const app = apiOver({ findDags: () => Promise.reject(refusal) });
      const res = await app.request("/api/v2/dags");
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect((await res.json()).detail).toBe("Service Unavailable: the server cannot reach its database for now; retry in a few seconds");
    });
  });

  describe("import errors", () => {
    test("lists files that failed to load with their reasons", async () => {
      const h = await makeHarness();
      await h.store.replaceImportErrors("default", "/dags/bad.json", ["tasks[0].operator: operator is required"], NOW);
      const r = await h.json("GET", "/api/v2/importErrors");
      expect(r.status).toBe(200);
      expect(r.body.total_entries).toBe(1);
      expect(r.body.import_errors[0]).toMatchObject({
        import_error_id: expect.any(Number),
        timestamp: NOW.toISOString(),
        filename: "/dags/bad.json",
        bundle_name: null,
      });
      expect(r.body.import_errors[0].stack_trace).toContain("tasks[0].operator: operator is required");
      expect((await h.call("GET", "/api/v2/importErrors", { token: null })).status).toBe(401);
    });
  });
});
