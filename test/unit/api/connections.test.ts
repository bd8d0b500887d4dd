import { describe, expect, test } from "bun:test";
import { makeHarness } from "./harness";

const API = {
  connection_id: "api",
  conn_type: "http",
  host: "api.example.com",
  login: "bot",
  password: "hunter22",
  schema: "v1",
  port: 8443,
  extra: JSON.stringify({ token: "tok-secret", region: "eu", nested: { client_secret: "s" } }),
};

describe("connections API", () => {
  test("create and read back: the password is never returned, secrets in extra are masked", async () => {
    const h = await makeHarness();
    const created = await h.json("POST", "/api/v2/connections", { body: API });
    expect(created.status).toBe(201);
    const expected = {
      connection_id: "api",
      conn_type: "http",
      description: null,
      host: "api.example.com",
      login: "bot",
      schema: "v1",
      port: 8443,
      password: "***",
      extra: JSON.stringify({ token: "***", region: "eu", nested: { client_secret: "***" } }),
    };
    expect(created.body).toEqual(expected);
    expect((await h.json("GET", "/api/v2/connections/api")).body).toEqual(expected);
    const list = await h.json("GET", "/api/v2/connections");
    expect(list.body).toEqual({ connections: [expected], total_entries: 1 });
    const raw = JSON.stringify(list.body) + JSON.stringify(created.body);
    expect(raw).not.toContain("hunter22");
    expect(raw).not.toContain("tok-secret");
    // The store keeps the real values for tasks.
    expect((await h.store.getConnection("api"))?.password).toBe("hunter22");
  });

  test("patch changes what the body sets (or update_mask names) and keeps the password when it is omitted or ***", async () => {
    const h = await makeHarness();
    await h.json("POST", "/api/v2/connections", { body: API });
    const r = await h.json("PATCH", "/api/v2/connections/api", { body: { connection_id: "api", conn_type: "http", host: "new.example.com", password: "***" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ host: "new.example.com", login: "bot", password: "***" });
    expect((await h.store.getConnection("api"))?.password).toBe("hunter22");
    await h.json("PATCH", "/api/v2/connections/api?update_mask=login", { body: { connection_id: "api", conn_type: "http", host: "ignored" } });
    const stored = await h.store.getConnection("api");
    expect(stored).toMatchObject({ host: "new.example.com", login: null, password: "hunter22" });
  });

  test("errors: 404 unknown, 409 duplicate, 400 id mismatch, 422 invalid id or extra, 403 viewer", async () => {
    const h = await makeHarness();
    expect(await h.json("GET", "/api/v2/connections/nope")).toEqual({
      status: 404,
      body: { detail: "The Connection with connection_id: `nope` was not found" },
    });
    await h.json("POST", "/api/v2/connections", { body: API });
    expect((await h.json("POST", "/api/v2/connections", { body: API })).status).toBe(409);
    expect((await h.json("PATCH", "/api/v2/connections/api", { body: { ...API, connection_id: "x" } })).status).toBe(400);
    const bad = await h.json("POST", "/api/v2/connections", { body: { connection_id: "bad id!", conn_type: "http", extra: "[1]" } });
    expect(bad.status).toBe(422);
    expect(bad.body.detail.map((d: any) => d.loc)).toEqual([["body", "connection_id"], ["body", "extra"]]);
    expect((await h.json("DELETE", "/api/v2/connections/api", { token: await h.token("viewer") })).status).toBe(403);
    expect((await h.call("DELETE", "/api/v2/connections/api")).status).toBe(204);
    expect((await h.call("DELETE", "/api/v2/connections/api")).status).toBe(404);
  });
});
