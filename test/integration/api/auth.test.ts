import { describe, expect, test } from "bun:test";
import { AgentTokens } from "../../../src/auth";
import { forEachApiStore, NOW, SECRET } from "./harness";

forEachApiStore((makeHarness) => {
  describe("POST /auth/token", () => {
    test("good credentials give a bearer token that opens the API", async () => {
      const h = await makeHarness();
      const r = await h.json("POST", "/auth/token", { body: { username: "admin", password: "admin-pass" }, token: null });
      expect(r.status).toBe(201);
      expect(r.body.token_type).toBe("bearer");
      const dags = await h.call("GET", "/api/v2/dags", { token: r.body.access_token });
      expect(dags.status).toBe(200);
    });

    test("the OAuth2 form encoding works too", async () => {
      const h = await makeHarness();
      const res = await h.call("POST", "/auth/token", {
        body: "username=viewer&password=viewer-pass",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        token: null,
      });
      expect(res.status).toBe(201);
    });

    test.each([
      ["wrong password", { username: "admin", password: "nope" }],
      ["unknown user", { username: "ghost", password: "admin-pass" }],
    ])("%s → 401 with the same detail", async (_n, body) => {
      const h = await makeHarness();
      const r = await h.json("POST", "/auth/token", { body, token: null });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ detail: "Invalid username or password" });
    });

    test("after 5 failures the 6th try is refused with 429 and Retry-After, even with the right password", async () => {
      const h = await makeHarness();
      const login = (password: string) => h.call("POST", "/auth/token", { body: { username: "admin", password }, token: null });
      for (let i = 0; i < 5; i++) expect((await login("nope")).status).toBe(401);
      const refused = await login("admin-pass");
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect((await refused.json()).detail).toContain("Too many failed logins");
      // Another user at the same address is not locked (4 + 1 failures stay under the address's 20).
      expect((await h.call("POST", "/auth/token", { body: { username: "viewer", password: "viewer-pass" }, token: null })).status).toBe(
        201,
      );
    });

    test("X-Forwarded-For is not trusted by default: spoofing it does not escape the lockout", async () => {
      const h = await makeHarness();
      for (let i = 0; i < 5; i++)
        await h.call("POST", "/auth/token", {
          body: { username: "admin", password: "nope" },
          token: null,
          headers: { "X-Forwarded-For": `10.9.9.${i}` },
        });
      const r = await h.call("POST", "/auth/token", {
        body: { username: "admin", password: "nope" },
        token: null,
        headers: { "X-Forwarded-For": "10.9.9.99" },
      });
      expect(r.status).toBe(429);
    });

    test("a NUL in the username is a 400, in JSON and in the form encoding", async () => {
      const h = await makeHarness();
      const json = await h.json("POST", "/auth/token", { body: { username: "ad\u0000min", password: "x" }, token: null });
      expect(json.status).toBe(400);
      expect(json.body.detail).toContain("username contains U+0000 (NUL)");
      const form = await h.call("POST", "/auth/token", {
        body: "username=ad%00min&password=x",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        token: null,
      });
      expect(form.status).toBe(400);
    });

    test("a missing field is a 422 naming it", async () => {
      const h = await makeHarness();
      const r = await h.json("POST", "/auth/token", { body: { username: "admin" }, token: null });
      expect(r.status).toBe(422);
      expect(r.body.detail).toEqual([{ loc: ["body", "password"], msg: "Field required", type: "missing" }]);
    });
  });

  describe("bearer auth on /api/v2", () => {
    test("no token → 401 saying how to get one", async () => {
      const h = await makeHarness();
      const res = await h.call("GET", "/api/v2/dags", { token: null });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
      expect((await res.json()).detail).toContain("POST /auth/token");
    });

    test("a malformed header, a bad token and an expired one → 401", async () => {
      const h = await makeHarness();
      expect((await h.call("GET", "/api/v2/dags", { token: null, headers: { Authorization: "Basic abc" } })).status).toBe(401);
      expect((await h.call("GET", "/api/v2/dags", { token: "garbage" })).status).toBe(401);
      const old = await h.tokens.issue({ username: "admin", role: "admin" }, new Date(NOW.getTime() - 25 * 3600_000));
      const r = await h.json("GET", "/api/v2/dags", { token: old });
      expect(r.status).toBe(401);
      // How to log in, said once (the token's reason already names POST /auth/token).
      expect(r.body.detail).toBe("Not authenticated: token expired; get a new one with POST /auth/token");
      const none = await h.json("GET", "/api/v2/dags", { token: null });
      expect(none.body.detail).toBe(
        'Not authenticated: the Authorization header is missing; get a token with POST /auth/token {"username": "...", "password": "..."} and send it as "Authorization: Bearer <access_token>"',
      );
    });

    test("an agent token is refused", async () => {
      const h = await makeHarness();
      const agent = await new AgentTokens(SECRET).issue({ tiId: 1, tryNumber: 1, dagId: "etl", runId: "r", taskId: "t" }, 3600, NOW);
      const r = await h.json("GET", "/api/v2/dags", { token: agent });
      expect(r.status).toBe(401);
      expect(r.body.detail).toContain("agent tokens cannot call the REST API");
    });

    test("version and health need no token", async () => {
      const h = await makeHarness();
      expect((await h.call("GET", "/api/v2/version", { token: null })).status).toBe(200);
      expect((await h.call("GET", "/api/v2/monitor/health", { token: null })).status).toBe(200);
    });

    test("a viewer can read but not trigger or pause (403)", async () => {
      const h = await makeHarness();
      const viewer = await h.token("viewer");
      expect((await h.call("GET", "/api/v2/dags/etl", { token: viewer })).status).toBe(200);
      const trig = await h.json("POST", "/api/v2/dags/etl/dagRuns", { token: viewer, body: { logical_date: null } });
      expect(trig.status).toBe(403);
      expect(trig.body.detail).toContain("has role Viewer");
      expect((await h.call("PATCH", "/api/v2/dags/etl", { token: viewer, body: { is_paused: true } })).status).toBe(403);
    });

    test("with --auth=none every route is open and /auth/token says so", async () => {
      const h = await makeHarness({ auth: false });
      expect((await h.call("GET", "/api/v2/dags", { token: null })).status).toBe(200);
      expect((await h.call("POST", "/api/v2/dags/etl/dagRuns", { token: null, body: { logical_date: null } })).status).toBe(200);
      const r = await h.json("POST", "/auth/token", { body: { username: "admin", password: "admin-pass" }, token: null });
      expect(r.status).toBe(400);
      expect(r.body.detail).toContain("--auth=none");
    });
  });
});
