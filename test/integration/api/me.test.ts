/**
 * GET /api/v2/leoflow/me (who the caller is, in the request's team) and the scheduler being told at once when
 * a team is created or its quotas change through the API. Run on SQLite and Postgres.
 */
import { describe, expect, test } from "bun:test";
import { createApi } from "../../../src/api";
import type { TeamInput } from "../../../src/domain";
import { NOW, forEachApiStore } from "./harness";

const TEAM = "Leoflow-Team";
const team = (name: string): TeamInput => ({
  name,
  description: null,
  max_running_tasks: null,
  max_pool_slots: null,
  max_inline_requests: null,
  executor_policy: {},
});

forEachApiStore((makeHarness) => {
  describe("GET /api/v2/leoflow/me", () => {
    test("a user of two teams: their roles in both, and the role of the team each request acts in", async () => {
      const h = await makeHarness();
      for (const name of ["alpha", "beta"]) await h.store.createTeam(team(name), NOW);
      await h.store.putUser({ username: "mia", password_hash: "x", role: "viewer" }, NOW, [
        { team: "alpha", role: "op" },
        { team: "beta", role: "viewer" },
      ]);
      const mia = await h.tokens.issue({ username: "mia", role: "viewer" }, NOW);
      const roles = [
        { team: "alpha", role: "Op" },
        { team: "beta", role: "Viewer" },
      ];
      const inBeta = await h.json("GET", "/api/v2/leoflow/me", { token: mia, headers: { [TEAM]: "beta" } });
      expect(inBeta).toEqual({ status: 200, body: { username: "mia", team: "beta", role: "Viewer", roles, install_admin: false } });
      // No header and no role in `default`: the first of her teams by name.
      const own = await h.json("GET", "/api/v2/leoflow/me", { token: mia });
      expect(own.body).toMatchObject({ team: "alpha", role: "Op" });
      // A team she has no role in is the 404 of a team that does not exist.
      const other = await h.json("GET", "/api/v2/leoflow/me", { token: mia, headers: { [TEAM]: "default" } });
      expect(other).toEqual({ status: 404, body: { detail: 'Team "default" not found' } });
    });

    test("an install admin acts as Admin in a team they hold no role in, and says so", async () => {
      const h = await makeHarness();
      await h.store.createTeam(team("beta"), NOW);
      const res = await h.json("GET", "/api/v2/leoflow/me", { headers: { [TEAM]: "beta" } });
      expect(res.body).toEqual({
        username: "admin",
        team: "beta",
        role: "Admin",
        roles: [{ team: "default", role: "Admin" }],
        install_admin: true,
      });
      const viewer = await h.json("GET", "/api/v2/leoflow/me", { token: await h.token("viewer") });
      expect(viewer.body).toMatchObject({ username: "viewer", team: "default", role: "Viewer", install_admin: false });
    });

    test("with --auth=none there is no user, and the caller may do anything", async () => {
      const h = await makeHarness({ auth: false });
      const res = await h.json("GET", "/api/v2/leoflow/me", { token: null });
      expect(res.body).toEqual({ username: null, team: "default", role: "Admin", roles: [], install_admin: true });
    });
  });

  describe("the teams API tells the scheduler", () => {
    test("creating a team and changing its quotas ask the scheduler to read them again; a failed change does not", async () => {
      const h = await makeHarness();
      let changed = 0;
      const app = createApi({
        store: h.store,
        tokens: h.tokens,
        version: "x",
        now: () => NOW,
        scheduler: {
          wake: () => {},
          teamsChanged: () => void changed++,
          health: () => ({ status: "healthy", latest_scheduler_heartbeat: null }),
        },
      });
      const headers = { Authorization: `Bearer ${await h.token()}`, "Content-Type": "application/json" };
      const call = (method: string, path: string, body: unknown) =>
        app.request(`/api/v2/leoflow/teams${path}`, { method, headers, body: JSON.stringify(body) });
      expect((await call("POST", "", { name: "beta" })).status).toBe(201);
      expect(changed).toBe(1);
      expect((await call("PATCH", "/beta", { max_running_tasks: 1 })).status).toBe(200);
      expect(changed).toBe(2);
      expect((await call("PATCH", "/nope", { max_running_tasks: 1 })).status).toBe(404);
      expect((await call("POST", "", { name: "beta" })).status).toBe(409);
      expect(changed).toBe(2);
    });
  });
});
