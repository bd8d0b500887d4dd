/** GET /api/v2/openapi.json: open, generated from the registry, and naming every route the server mounts. */
import { describe, expect, test } from "bun:test";
import { createApi } from "../../../src/api";
import { openApiPath } from "../../../src/api/openapi-registry";
import { EventHub } from "../../../src/events";
import { openStore } from "../../../src/store";
import { forEachApiStore } from "./harness";
import { UI_ROUTE_PATHS } from "../../../src/ui";

forEachApiStore((makeHarness) => {
  const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

  /** Every method+path the app mounts, with the optional parts (events, metrics) switched on. */
  function mountedRoutes(): string[] {
    const app = createApi({
      store: openStore("sqlite::memory:"),
      tokens: null,
      version: "x",
      scheduler: { wake() {}, health: () => ({ status: "healthy", latest_scheduler_heartbeat: null }) },
      events: new EventHub(),
      metrics: { render: () => "" } as never,
    });
    const seen = new Set<string>();
    for (const r of app.routes)
      if (METHODS.includes(r.method) && !UI_ROUTE_PATHS.includes(r.path)) seen.add(`${r.method.toLowerCase()} ${openApiPath(r.path)}`);
    return [...seen].sort();
  }

  describe("GET /api/v2/openapi.json", () => {
    test("is served without a token and lists every mounted route", async () => {
      const h = await makeHarness();
      const res = await h.json("GET", "/api/v2/openapi.json", { token: null });
      expect(res.status).toBe(200);
      expect(res.body.openapi).toBe("3.1.0");
      const documented = new Set(
        Object.entries(res.body.paths as Record<string, object>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)),
      );
      const missing = mountedRoutes().filter((r) => !documented.has(r));
      // A missing route: add a describeRoute for it in src/api/schemas/<resource>.ts.
      expect(missing).toEqual([]);
    });

    test("documents request bodies, query parameters and error responses from the route's schemas", async () => {
      const h = await makeHarness();
      const { body } = await h.json("GET", "/api/v2/openapi.json", { token: null });
      const trigger = body.paths["/api/v2/dags/{dag_id}/dagRuns"].post;
      expect(trigger.requestBody.content["application/json"].schema.properties).toHaveProperty("logical_date");
      expect(Object.keys(trigger.responses)).toEqual(expect.arrayContaining(["200", "401", "403", "404", "422"]));
      expect(trigger.security).toEqual([{ HTTPBearer: [] }]);
      const list = body.paths["/api/v2/dags"].get;
      expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["limit", "offset", "tags"]));
      expect(list.responses["200"].content["application/json"].schema.properties.dags.type).toBe("array");
      expect(body.paths["/api/v2/version"].get.security).toBeUndefined();
    });
  });
});
