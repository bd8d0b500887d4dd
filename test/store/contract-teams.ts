/**
 * Store contract for teams (issue 21): the teams themselves (create with a default_pool, update, delete and
 * its refusals) and users' roles per team, with the rule that team `default` never loses its last Admin.
 */
import { describe, expect, test } from "bun:test";
import { ConflictError, DEFAULT_TEAM, ValidationError, type TeamInput } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";

const T0 = new Date("2026-01-01T00:00:00.000Z");

const team = (name: string, over: Partial<TeamInput> = {}): TeamInput => ({
  name,
  description: null,
  max_running_tasks: null,
  max_pool_slots: null,
  max_inline_requests: null,
  executor_policy: {},
  ...over,
});

export function teamsContract(getStore: () => Store): void {
  describe("teams", () => {
    test("`default` exists; createTeam makes the team and its own default_pool; a taken or bad name is refused", async () => {
      const store = getStore();
      expect((await store.listTeams()).map((t) => t.name)).toEqual([DEFAULT_TEAM]);
      const created = await store.createTeam(
        team("data-eng", { description: "the data team", max_running_tasks: 5, executor_policy: { images: ["ghcr.io/de/*"] } }),
        T0,
      );
      expect(created).toEqual({
        ...team("data-eng"),
        description: "the data team",
        max_running_tasks: 5,
        executor_policy: { images: ["ghcr.io/de/*"] },
        created_at: T0,
      });
      expect(await store.getTeam("data-eng")).toEqual(created);
      expect(await store.getPool("data-eng", "default_pool")).toMatchObject({
        name: "default_pool",
        slots: 128,
        description: "Default pool",
      });
      await expect(store.createTeam(team("data-eng"), T0)).rejects.toBeInstanceOf(ConflictError);
      await expect(store.createTeam(team("Data_Eng"), T0)).rejects.toBeInstanceOf(ValidationError);
      expect(await store.getTeam("Data_Eng")).toBeNull();
      expect((await store.listTeams()).map((t) => t.name)).toEqual(["data-eng", DEFAULT_TEAM]);
    });

    test("updateTeam changes only the given fields (null lifts a quota); null for a missing team", async () => {
      const store = getStore();
      await store.createTeam(team("a", { max_running_tasks: 5, max_pool_slots: 10 }), T0);
      const after = await store.updateTeam("a", {
        max_running_tasks: null,
        max_inline_requests: 3,
        executor_policy: { executors: ["subprocess"] },
      });
      expect(after).toEqual({
        ...team("a"),
        max_pool_slots: 10,
        max_inline_requests: 3,
        executor_policy: { executors: ["subprocess"] },
        created_at: T0,
      });
      expect(await store.updateTeam("a", {})).toEqual(after);
      expect(await store.updateTeam("nope", { description: "x" })).toBeNull();
    });

    test("deleteTeam refuses `default` and a team that owns a DAG; deletes an empty team with its pools, variables and roles", async () => {
      const store = getStore();
      await expect(store.deleteTeam(DEFAULT_TEAM)).rejects.toThrow(/cannot be deleted/);
      await store.createTeam(team("a"), T0);
      await store.createTeam(team("b"), T0);
      await store.upsertDag("a", {
        spec: parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] }),
        fileloc: "/dags/a/etl.json",
        pausedOnCreate: false,
        now: T0,
      });
      const refused = store.deleteTeam("a");
      await expect(refused).rejects.toBeInstanceOf(ConflictError);
      await expect(store.deleteTeam("a")).rejects.toThrow('team "a" still owns 1 DAG(s) (etl)');
      expect(await store.getTeam("a")).not.toBeNull();

      await store.putVariable("b", { key: "k", value: "v", description: null }, T0);
      await store.putUser({ username: "bo", password_hash: "h", role: "viewer" }, T0);
      expect(await store.setUserRole("bo", "b", "op")).toEqual([
        { team: "b", role: "op" },
        { team: DEFAULT_TEAM, role: "viewer" },
      ]);
      expect(await store.deleteTeam("b")).toBe(true);
      expect(await store.getTeam("b")).toBeNull();
      expect(await store.getPool("b", "default_pool")).toBeNull();
      expect(await store.getVariable("b", "k")).toBeNull();
      expect(await store.getUserRoles("bo")).toEqual([{ team: DEFAULT_TEAM, role: "viewer" }]);
      expect(await store.deleteTeam("b")).toBe(false);
      // The name is free again, and the new team starts empty.
      await store.createTeam(team("b"), T0);
      expect(await store.getVariable("b", "k")).toBeNull();
    });
  });

  describe("roles per team", () => {
    test("putUser gives the role in `default`; setUserRole grants, changes and removes roles per team", async () => {
      const store = getStore();
      await store.createTeam(team("a"), T0);
      await store.createTeam(team("b"), T0);
      await store.putUser({ username: "ada", password_hash: "h", role: "viewer" }, T0);
      await store.putUser({ username: "bob", password_hash: "h", role: "op" }, T0);
      expect(await store.getUserRoles("ada")).toEqual([{ team: DEFAULT_TEAM, role: "viewer" }]);
      expect(await store.setUserRole("ada", "a", "viewer")).toEqual([
        { team: "a", role: "viewer" },
        { team: DEFAULT_TEAM, role: "viewer" },
      ]);
      await store.setUserRole("ada", "b", "op");
      await store.setUserRole("ada", "b", "user");
      expect(await store.setUserRole("ada", DEFAULT_TEAM, null)).toEqual([
        { team: "a", role: "viewer" },
        { team: "b", role: "user" },
      ]);
      // One user's grants never show up as another's.
      expect(await store.getUserRoles("bob")).toEqual([{ team: DEFAULT_TEAM, role: "op" }]);
      expect(await store.getUserRoles("nobody")).toEqual([]);
      expect(await store.setUserRole("nobody", "a", "op")).toBe("missing_user");
      expect(await store.setUserRole("ada", "zz", "op")).toBe("missing_team");
      expect(await store.getUserRoles("ada")).toEqual([
        { team: "a", role: "viewer" },
        { team: "b", role: "user" },
      ]);
    });

    test("getUserAccess: a user's roles, [] for a user without any, null for no such user", async () => {
      const store = getStore();
      await store.createTeam(team("a"), T0);
      await store.putUser({ username: "ada", password_hash: "h", role: "op" }, T0);
      await store.setUserRole("ada", "a", "viewer");
      await store.putUser({ username: "bob", password_hash: "h", role: "viewer" }, T0);
      await store.setUserRole("bob", DEFAULT_TEAM, null);
      expect(await store.getUserAccess("ada")).toEqual([
        { team: "a", role: "viewer" },
        { team: DEFAULT_TEAM, role: "op" },
      ]);
      expect(await store.getUserAccess("bob")).toEqual([]);
      expect(await store.getUserAccess("nobody")).toBeNull();
      await store.changeUser("ada", { delete: true });
      expect(await store.getUserAccess("ada")).toBeNull();
    });

    test("users.role follows the role in `default`, and is Viewer (grants nothing) for a user outside it", async () => {
      const store = getStore();
      await store.putUser({ username: "ada", password_hash: "h", role: "admin" }, T0);
      await store.putUser({ username: "cy", password_hash: "h", role: "op" }, T0);
      await store.setUserRole("cy", DEFAULT_TEAM, "user");
      expect((await store.getUser("cy"))?.role).toBe("user");
      await store.changeUser("cy", { role: "op" });
      expect(await store.getUserRoles("cy")).toEqual([{ team: DEFAULT_TEAM, role: "op" }]);
      await store.setUserRole("cy", DEFAULT_TEAM, null);
      expect((await store.getUser("cy"))?.role).toBe("viewer");
      expect(await store.getUserRoles("cy")).toEqual([]);
    });

    test("putUser with roles gives exactly those roles, none in `default` unless listed", async () => {
      const store = getStore();
      await store.createTeam(team("a"), T0);
      await store.putUser({ username: "dee", password_hash: "h", role: "viewer" }, T0, [{ team: "a", role: "op" }]);
      expect(await store.getUserRoles("dee")).toEqual([{ team: "a", role: "op" }]);
      expect((await store.getUser("dee"))?.role).toBe("viewer");
      await store.putUser({ username: "eve", password_hash: "h", role: "viewer" }, T0, [
        { team: DEFAULT_TEAM, role: "admin" },
        { team: "a", role: "user" },
      ]);
      expect((await store.getUser("eve"))?.role).toBe("admin");
    });

    test("addUser with roles gives a new user exactly those; a taken name changes nothing", async () => {
      const store = getStore();
      await store.createTeam(team("a"), T0);
      expect(await store.addUser({ username: "dee", password_hash: "h", role: "viewer" }, T0, [{ team: "a", role: "op" }])).toBe(true);
      expect(await store.getUserRoles("dee")).toEqual([{ team: "a", role: "op" }]);
      expect((await store.getUser("dee"))?.role).toBe("viewer");
      expect(
        await store.addUser({ username: "dee", password_hash: "h2", role: "admin" }, T0, [{ team: DEFAULT_TEAM, role: "admin" }]),
      ).toBe(false);
      expect(await store.getUserRoles("dee")).toEqual([{ team: "a", role: "op" }]);
      expect((await store.getUser("dee"))?.password_hash).toBe("h");
    });

    test("team `default` keeps an Admin: its last one cannot be demoted, removed or deleted; another team's Admin does not count", async () => {
      const store = getStore();
      await store.createTeam(team("a"), T0);
      await store.putUser({ username: "root", password_hash: "h", role: "admin" }, T0);
      await store.putUser({ username: "ann", password_hash: "h", role: "viewer" }, T0);
      await store.setUserRole("ann", "a", "admin");
      expect(await store.setUserRole("root", DEFAULT_TEAM, "op")).toBe("last_admin");
      expect(await store.setUserRole("root", DEFAULT_TEAM, null)).toBe("last_admin");
      expect(await store.changeUser("root", { role: "viewer" })).toBe("last_admin");
      expect(await store.changeUser("root", { delete: true })).toBe("last_admin");
      await expect(
        store.putUser({ username: "root", password_hash: "h", role: "viewer" }, T0, [{ team: "a", role: "admin" }]),
      ).rejects.toBeInstanceOf(ConflictError);
      expect(await store.getUserRoles("root")).toEqual([{ team: DEFAULT_TEAM, role: "admin" }]);
      // With a second Admin in `default`, the first may step down.
      await store.setUserRole("ann", DEFAULT_TEAM, "admin");
      expect(await store.setUserRole("root", DEFAULT_TEAM, null)).toEqual([]);
      expect(await store.changeUser("ann", { delete: true })).toBe("last_admin");
      // Deleting a user takes its roles with it.
      await store.putUser({ username: "gus", password_hash: "h", role: "op" }, T0);
      await store.setUserRole("gus", "a", "op");
      await store.changeUser("gus", { delete: true });
      expect(await store.getUserRoles("gus")).toEqual([]);
    });

    test("concurrent demotions of the last two Admins of `default`: exactly one applies", async () => {
      const store = getStore();
      await store.putUser({ username: "a1", password_hash: "h", role: "admin" }, T0);
      await store.putUser({ username: "a2", password_hash: "h", role: "admin" }, T0);
      const results = await Promise.all([store.setUserRole("a1", DEFAULT_TEAM, "viewer"), store.setUserRole("a2", DEFAULT_TEAM, null)]);
      expect(results.filter((r) => r === "last_admin")).toHaveLength(1);
      const admins = [...(await store.getUserRoles("a1")), ...(await store.getUserRoles("a2"))].filter((r) => r.role === "admin");
      expect(admins).toEqual([{ team: DEFAULT_TEAM, role: "admin" }]);
    });
  });
}
