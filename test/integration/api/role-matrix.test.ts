/**
 * Every route the API mounts, called with no token and with a token of each role: 401 without one; 403 where
 * the role lacks the permission the route table names (the permission check's own refusal); neither
 * otherwise (404 or 422 for the placeholder
 * ids and empty bodies used here is fine: this test is about who gets in, not what they get).
 */
import { UI_ROUTE_PATHS } from "../../../src/ui";
import { describe, expect, test } from "bun:test";
import { createApi } from "../../../src/api";
import { ROLES, hasPermission, type Role } from "../../../src/auth";
import { EventHub } from "../../../src/events";
import { permissionFor } from "../../../src/api/route-permissions";
import { NOW, forEachApiStore } from "./harness";

forEachApiStore((makeHarness) => {
  const PREFIX = "/api/v2";
  /** Open on purpose: health checks, version, the spec and login. */
  const OPEN = new Set([
    "GET /api/v2/version",
    "GET /api/v2/monitor/health",
    "GET /api/v2/openapi.json",
    "POST /auth/token",
    "GET /metrics",
  ]);

  async function setUp() {
    const h = await makeHarness();
    const app = createApi({
      store: h.store,
      tokens: h.tokens,
      version: "9.9.9",
      scheduler: { wake: () => {}, health: () => ({ status: "healthy", latest_scheduler_heartbeat: null }) },
      events: new EventHub(),
      now: () => NOW,
    });
    const tokens = {} as Record<Role, string>;
    for (const role of ROLES) {
      await h.store.putUser({ username: `${role}-user`, password_hash: "x", role }, NOW);
      // The claim's role is ignored: the server reads the role from the store on every call.
      tokens[role] = await h.tokens.issue({ username: `${role}-user`, role: "viewer" }, NOW);
    }
    const seen = new Set<string>();
    const routes = app.routes.filter((r) => {
      const key = `${r.method} ${r.path}`;
      if (r.method === "ALL" || seen.has(key) || UI_ROUTE_PATHS.includes(r.path)) return false;
      seen.add(key);
      return true;
    });
    const call = async (method: string, path: string, token?: string) => {
      // A constrained parameter (map_index{-?[0-9]+}) needs a value it accepts, or the route is not matched.
      const url = path.replace(/:[^/{]+(\{[^}]*\})?/g, (_m, regex?: string) => (regex ? "1" : "nope"));
      const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
      const withBody = ["POST", "PATCH", "PUT"].includes(method);
      if (withBody) headers["Content-Type"] = "application/json";
      const res = await app.request(url, { method, headers, body: withBody ? "{}" : undefined });
      const text = res.headers.get("content-type")?.includes("json") ? await res.text() : (await res.body?.cancel(), ""); // SSE never ends
      // A route may answer 403 itself (Airflow's "testing connections is disabled"); only the permission
      // check's own refusal counts as "forbidden by role" here.
      return {
        status: res.status,
        byRole: res.status === 403 && /has role \w+, which lacks|no entry in the route permission table/.test(text),
      };
    };
    return { routes, tokens, call };
  }

  /** Each test makes its own harness: a Postgres store lives for one test. */
  async function walk() {
    const { routes, tokens, call } = await setUp();
    return { tokens, call, guarded: routes.filter((r) => !OPEN.has(`${r.method} ${r.path}`)) };
  }

  describe("role × route matrix", () => {
    test("the API mounts the routes this walks (sanity)", async () => {
      const { guarded } = await walk();
      expect(guarded.length).toBeGreaterThan(30);
      expect(guarded.some((r) => r.path === "/api/v2/leoflow/users")).toBe(true);
      expect(guarded.some((r) => r.path === "/api/v2/leoflow/events")).toBe(true);
    });

    test("every guarded route has an entry in the permission table", async () => {
      const { guarded } = await walk();
      const missing = guarded.filter((r) => !permissionFor(r.method, r.path, PREFIX)).map((r) => `${r.method} ${r.path}`);
      expect(missing).toEqual([]);
    });

    test("no token: 401 on every guarded route", async () => {
      const { guarded, call } = await walk();
      const wrong: string[] = [];
      for (const r of guarded) if ((await call(r.method, r.path)).status !== 401) wrong.push(`${r.method} ${r.path}`);
      expect(wrong).toEqual([]);
    });

    test("each role: 403 exactly where it lacks the permission, never 401", async () => {
      const { guarded, tokens, call } = await walk();
      const wrong: string[] = [];
      let checked = 0;
      for (const r of guarded)
        for (const role of ROLES) {
          const needed = permissionFor(r.method, r.path, PREFIX);
          const allowed = needed ? hasPermission(role, needed) : role === "admin";
          const { status, byRole } = await call(r.method, r.path, tokens[role]);
          checked++;
          const ok = allowed ? status !== 401 && !byRole : byRole;
          if (!ok) wrong.push(`${role} ${r.method} ${r.path} → ${status} (expected ${allowed ? "in" : "403"})`);
        }
      expect(wrong).toEqual([]);
      expect(checked).toBe(guarded.length * ROLES.length);
    });
  });
});
