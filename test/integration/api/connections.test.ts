import { describe, expect, test } from "bun:test";
import { SecretsCipher } from "../../../src/store";
import { withSecrets } from "../../../src/store";
import { forEachApiStore, NOW } from "./harness";

forEachApiStore((makeHarness) => {
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
        is_encrypted: true,
        is_extra_encrypted: true,
      };
      expect(created.body).toEqual(expected);
      expect((await h.json("GET", "/api/v2/connections/api")).body).toEqual(expected);
      const list = await h.json("GET", "/api/v2/connections");
      expect(list.body).toEqual({ connections: [expected], total_entries: 1 });
      const raw = JSON.stringify(list.body) + JSON.stringify(created.body);
      expect(raw).not.toContain("hunter22");
      expect(raw).not.toContain("tok-secret");
      // Tasks read the real values; the database holds only ciphertext.
      expect((await h.store.getConnection("default", "api"))?.password).toBe("hunter22");
      const stored = JSON.stringify(await h.rawStore.getConnection("default", "api"));
      expect(stored).not.toContain("hunter22");
      expect(stored).not.toContain("tok-secret");
    });

    test("is_encrypted tells the truth: false for a row stored before encryption, or with no password", async () => {
      const h = await makeHarness();
      await h.rawStore.putConnection("default", { ...API, description: null }, NOW);
      expect((await h.json("GET", "/api/v2/connections/api")).body).toMatchObject({
        password: "***",
        is_encrypted: false,
        is_extra_encrypted: false,
      });
      const bare = await h.json("POST", "/api/v2/connections", { body: { connection_id: "bare", conn_type: "http", host: "h" } });
      expect(bare.body).toMatchObject({ password: null, extra: null, is_encrypted: false, is_extra_encrypted: false });
      // A GET's answer can be sent back as is (the flags are read-only); the next write seals the old row.
      const read = (await h.json("GET", "/api/v2/connections/api")).body;
      const patched = await h.json("PATCH", "/api/v2/connections/api", { body: { ...read, host: "new.example.com" } });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ host: "new.example.com", is_encrypted: true, is_extra_encrypted: true });
      expect(await h.store.getConnection("default", "api")).toMatchObject({ password: "hunter22", extra: API.extra });
      // Secrets of extra sent back as "***" keep their value; a field the client changed takes the new one.
      const extra = JSON.stringify({ token: "***", region: "us", nested: { client_secret: "***" } });
      await h.json("PATCH", "/api/v2/connections/api?update_mask=extra", { body: { connection_id: "api", conn_type: "http", extra } });
      expect(JSON.parse((await h.store.getConnection("default", "api"))!.extra!)).toEqual({
        token: "tok-secret",
        region: "us",
        nested: { client_secret: "s" },
      });
    });

    test("a row sealed under another key answers 500 with a detail that says why and how to fix it", async () => {
      const h = await makeHarness();
      await withSecrets(h.rawStore, new SecretsCipher(Buffer.alloc(32, 1))).putConnection("default", { ...API, description: null }, NOW);
      for (const path of ["/api/v2/connections/api", "/api/v2/connections"]) {
        const r = await h.json("GET", path);
        expect(r.status).toBe(500);
        expect(r.body.detail).toStartWith(
          "cannot decrypt connection api (password): the secrets key differs from the one it was written with",
        );
        expect(r.body.detail).toContain("leoflow secrets rotate");
      }
      expect((await h.call("DELETE", "/api/v2/connections/api")).status).toBe(204);
    });

    test("patch changes what the body sets (or update_mask names) and keeps the password when it is omitted or ***", async () => {
      const h = await makeHarness();
      await h.json("POST", "/api/v2/connections", { body: API });
      const r = await h.json("PATCH", "/api/v2/connections/api", {
        body: { connection_id: "api", conn_type: "http", host: "new.example.com", password: "***" },
      });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ host: "new.example.com", login: "bot", password: "***" });
      expect((await h.store.getConnection("default", "api"))?.password).toBe("hunter22");
      await h.json("PATCH", "/api/v2/connections/api?update_mask=login", {
        body: { connection_id: "api", conn_type: "http", host: "ignored" },
      });
      const stored = await h.store.getConnection("default", "api");
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
      expect(bad.body.detail.map((d: any) => d.loc)).toEqual([
        ["body", "connection_id"],
        ["body", "extra"],
      ]);
      expect((await h.json("DELETE", "/api/v2/connections/api", { token: await h.token("viewer") })).status).toBe(403);
      expect((await h.call("DELETE", "/api/v2/connections/api")).status).toBe(204);
      expect((await h.call("DELETE", "/api/v2/connections/api")).status).toBe(404);
    });
  });

  describe("PATCH /api/v2/connections (Airflow's bulk)", () => {
    test("create, update, delete; an update keeps the password sent back as *** and fields it leaves out", async () => {
      const h = await makeHarness();
      const r = await h.json("PATCH", "/api/v2/connections", {
        body: { actions: [{ action: "create", entities: [API, { connection_id: "db", conn_type: "postgres", host: "pg" }] }] },
      });
      expect(r.body).toEqual({ create: { success: ["api", "db"], errors: [] }, update: null, delete: null });
      expect((await h.rawStore.getConnection("default", "api"))?.password).not.toContain("hunter22");
      const u = await h.json("PATCH", "/api/v2/connections", {
        body: {
          actions: [
            { action: "update", entities: [{ connection_id: "api", conn_type: "http", host: "new.example.com", password: "***" }] },
            { action: "delete", entities: ["db"] },
          ],
        },
      });
      expect(u.body).toEqual({ create: null, update: { success: ["api"], errors: [] }, delete: { success: ["db"], errors: [] } });
      expect(await h.store.getConnection("default", "api")).toMatchObject({
        host: "new.example.com",
        password: "hunter22",
        login: "bot",
        port: 8443,
      });
      expect(await h.store.getConnection("default", "db")).toBeNull();
    });

    test("a create that meets an existing id fails whole (409) unless told to skip or overwrite", async () => {
      const h = await makeHarness();
      await h.json("POST", "/api/v2/connections", { body: API });
      const fail = await h.json("PATCH", "/api/v2/connections", {
        body: { actions: [{ action: "create", entities: [{ connection_id: "x", conn_type: "http" }, API] }] },
      });
      expect(fail.body.create).toEqual({
        success: [],
        errors: [{ error: "The connections with these connection_ids: {'api'} already exist.", status_code: 409 }],
      });
      expect(await h.store.getConnection("default", "x")).toBeNull();
      const over = await h.json("PATCH", "/api/v2/connections", {
        body: { actions: [{ action: "create", entities: [{ connection_id: "api", conn_type: "ftp" }], action_on_existence: "overwrite" }] },
      });
      expect(over.body.create.success).toEqual(["api"]);
      expect(await h.store.getConnection("default", "api")).toMatchObject({ conn_type: "ftp", password: null, host: null });
    });
    test("actions on one connection apply in order, each over the one before: no update or secret is lost", async () => {
      const h = await makeHarness();
      await h.json("POST", "/api/v2/connections", { body: { connection_id: "db", conn_type: "postgres" } });
      const two = await h.json("PATCH", "/api/v2/connections", {
        body: {
          actions: [
            { action: "update", entities: [{ connection_id: "db", conn_type: "postgres", host: "pg.internal" }] },
            { action: "update", entities: [{ connection_id: "db", conn_type: "postgres", login: "etl" }] },
          ],
        },
      });
      expect(two.body.update).toEqual({ success: ["db", "db"], errors: [] });
      expect((await h.json("GET", "/api/v2/connections/db")).body).toMatchObject({ host: "pg.internal", login: "etl" });

      const created = await h.json("PATCH", "/api/v2/connections", {
        body: {
          actions: [
            { action: "create", entities: [API] },
            { action: "update", entities: [{ connection_id: "api", conn_type: "http", host: "moved.example.com" }] },
          ],
        },
      });
      expect(created.body).toEqual({ create: { success: ["api"], errors: [] }, update: { success: ["api"], errors: [] }, delete: null });
      expect((await h.json("GET", "/api/v2/connections/api")).body).toMatchObject({
        host: "moved.example.com",
        login: "bot",
        password: "***",
        extra: JSON.stringify({ token: "***", region: "eu", nested: { client_secret: "***" } }),
      });
      expect((await h.store.getConnection("default", "api"))?.password).toBe("hunter22");

      // An update after a delete of the same id finds nothing, as the store will: a 404 for that action.
      const gone = await h.json("PATCH", "/api/v2/connections", {
        body: {
          actions: [
            { action: "delete", entities: ["db"] },
            { action: "update", entities: [{ connection_id: "db", conn_type: "postgres", port: 5432 }], action_on_non_existence: "skip" },
          ],
        },
      });
      expect(gone.body).toEqual({ create: null, update: { success: [], errors: [] }, delete: { success: ["db"], errors: [] } });
      expect((await h.json("GET", "/api/v2/connections/db")).status).toBe(404);
    });
  });

  describe("POST /api/v2/connections/test", () => {
    test("is refused (403) unless the server enables it, as Airflow's default", async () => {
      const h = await makeHarness();
      const r = await h.json("POST", "/api/v2/connections/test", { body: { connection_id: "t", conn_type: "http", host: "127.0.0.1" } });
      expect(r.status).toBe(403);
      expect(r.body.detail).toContain("--test-connection=Enabled");
    });

    test("a type Leoflow cannot test answers status false, saying so", async () => {
      const h = await makeHarness({ api: { testConnection: true } });
      const ftp = await h.json("POST", "/api/v2/connections/test", { body: { connection_id: "t", conn_type: "ftp", host: "x" } });
      expect(ftp).toEqual({
        status: 200,
        body: { status: false, message: expect.stringContaining('cannot test connections of type "ftp"') },
      });
    });
  });
});
