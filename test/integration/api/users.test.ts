import { describe, expect, test } from "bun:test";
import { verifyPassword } from "../../../src/auth";
import { NOW, forEachApiStore } from "./harness";

forEachApiStore((makeHarness) => {
  const USERS = "/api/v2/leoflow/users";

  describe("users API (admin only)", () => {
    test("create, get, list: Airflow's role names, never the hash", async () => {
      const h = await makeHarness();
      const made = await h.json("POST", USERS, { body: { username: "ada", password: "correct horse", role: "op" } });
      expect(made).toEqual({
        status: 201,
        body: { username: "ada", role: "Op", roles: [{ team: "default", role: "Op" }], created_at: NOW.toISOString() },
      });
      expect((await h.json("GET", `${USERS}/ada`)).body).toEqual(made.body);
      const list = await h.json("GET", USERS);
      expect(list.body.total_entries).toBe(3);
      expect(list.body.users.map((u: { username: string; role: string }) => `${u.username}:${u.role}`)).toEqual([
        "ada:Op",
        "admin:Admin",
        "viewer:Viewer",
      ]);
      expect(JSON.stringify(list.body)).not.toContain("argon2");
      expect((await h.json("GET", `${USERS}?limit=1&offset=1`)).body.users.map((u: { username: string }) => u.username)).toEqual(["admin"]);
    });

    test("a created user can log in and gets the rights of its role", async () => {
      const h = await makeHarness();
      await h.json("POST", USERS, { body: { username: "ada", password: "correct horse", role: "User" } });
      const login = await h.json("POST", "/auth/token", { body: { username: "ada", password: "correct horse" }, token: null });
      expect(login.status).toBe(201);
      const token = login.body.access_token;
      expect((await h.call("POST", "/api/v2/dags/etl/dagRuns", { token, body: { logical_date: null } })).status).toBe(200);
      const vars = await h.json("GET", "/api/v2/variables", { token });
      expect(vars.status).toBe(403);
      expect(vars.body.detail).toContain('user "ada" has role User, which lacks variables:read');
      expect(vars.body.detail).toContain("ask an Admin for the Op role");
    });

    test("patch changes role and password; the new role applies to tokens already issued", async () => {
      const h = await makeHarness();
      await h.json("POST", USERS, { body: { username: "ada", password: "correct horse", role: "Viewer" } });
      const token = (await h.json("POST", "/auth/token", { body: { username: "ada", password: "correct horse" }, token: null })).body
        .access_token;
      expect((await h.call("GET", "/api/v2/variables", { token })).status).toBe(403);
      const patched = await h.json("PATCH", `${USERS}/ada`, { body: { role: "OP", password: "battery staple" } });
      expect(patched).toMatchObject({ status: 200, body: { username: "ada", role: "Op" } });
      expect((await h.call("GET", "/api/v2/variables", { token })).status).toBe(200);
      expect(await verifyPassword("battery staple", (await h.store.getUser("ada"))!.password_hash)).toBe(true);
    });

    test("delete: 204, and the deleted user's token is refused (401)", async () => {
      const h = await makeHarness();
      await h.json("POST", USERS, { body: { username: "ada", password: "correct horse", role: "Admin" } });
      const token = (await h.json("POST", "/auth/token", { body: { username: "ada", password: "correct horse" }, token: null })).body
        .access_token;
      expect((await h.call("DELETE", `${USERS}/ada`)).status).toBe(204);
      const r = await h.json("GET", "/api/v2/dags", { token });
      expect(r.status).toBe(401);
      expect(r.body.detail).toContain('the token\'s user "ada" no longer exists');
      expect((await h.json("DELETE", `${USERS}/ada`)).status).toBe(404);
    });

    test("the last Admin can be neither deleted nor demoted (409)", async () => {
      const h = await makeHarness();
      const del = await h.json("DELETE", `${USERS}/admin`);
      expect(del.status).toBe(409);
      expect(del.body.detail).toContain("last Admin");
      expect((await h.json("PATCH", `${USERS}/admin`, { body: { role: "op" } })).status).toBe(409);
      await h.json("POST", USERS, { body: { username: "root2", password: "correct horse", role: "admin" } });
      expect(
        (await h.call("DELETE", `${USERS}/admin`, { token: await h.tokens.issue({ username: "root2", role: "admin" }, NOW) })).status,
      ).toBe(204);
    });

    test("bad input names the field (422); a taken name is 409; an unknown user 404", async () => {
      const h = await makeHarness();
      const cases: [unknown, string][] = [
        [{ username: "ada", password: "short", role: "Op" }, "password"],
        [{ username: "ada", password: "correct horse", role: "Public" }, "role"],
        [{ username: "bad name", password: "correct horse", role: "Op" }, "username"],
        [{ username: "ada", role: "Op" }, "password"],
        [{ username: "ada", password: "correct horse", role: "Op", email: "a@b" }, "email"],
      ];
      for (const [body, field] of cases) {
        const r = await h.json("POST", USERS, { body });
        expect(r.status).toBe(422);
        expect(r.body.detail[0].loc).toEqual(["body", field]);
      }
      expect((await h.json("POST", USERS, { body: { username: "viewer", password: "correct horse", role: "Op" } })).status).toBe(409);
      expect((await h.json("PATCH", `${USERS}/ada`, { body: { role: "Op" } })).status).toBe(404);
      expect((await h.json("PATCH", `${USERS}/viewer`, { body: {} })).status).toBe(422);
      expect((await h.json("GET", `${USERS}/ada`)).status).toBe(404);
    });

    test("the same user created twice at once: one 201, one 409, and the stored password is the 201's", async () => {
      const h = await makeHarness();
      const passwords = ["first horse battery", "second horse battery"];
      const answers = await Promise.all(
        passwords.map((password) => h.json("POST", USERS, { body: { username: "ada", password, role: "Op" } })),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
      const winner = passwords[answers.findIndex((a) => a.status === 201)]!;
      expect(await verifyPassword(winner, (await h.store.getUser("ada"))!.password_hash)).toBe(true);
      const loser = answers.find((a) => a.status === 409)!;
      expect(loser.body.detail).toContain('user "ada" already exists');
    });

    test("non-admins get 403 on every users route", async () => {
      const h = await makeHarness();
      await h.store.putUser({ username: "oscar", password_hash: "x", role: "op" }, NOW);
      const token = await h.tokens.issue({ username: "oscar", role: "op" }, NOW);
      const r = await h.json("GET", USERS, { token });
      expect(r.status).toBe(403);
      expect(r.body.detail).toContain("ask an Admin for the Admin role");
      expect((await h.call("POST", USERS, { token, body: { username: "x1", password: "correct horse", role: "Admin" } })).status).toBe(403);
    });
  });
});
