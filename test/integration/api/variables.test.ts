import { describe, expect, test } from "bun:test";
import { forEachApiStore } from "./harness";

forEachApiStore((makeHarness) => {
  describe("variables API", () => {
    test("create, get, list, patch, delete in Airflow's shapes", async () => {
      const h = await makeHarness();
      const created = await h.json("POST", "/api/v2/variables", { body: { key: "api_url", value: "http://x", description: "base" } });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ key: "api_url", value: "http://x", description: "base", is_encrypted: false });
      expect((await h.json("GET", "/api/v2/variables/api_url")).body.value).toBe("http://x");

      // Airflow takes any JSON value and stores its text.
      await h.json("POST", "/api/v2/variables", { body: { key: "limits", value: { max: 3 } } });
      expect((await h.json("GET", "/api/v2/variables/limits")).body).toEqual({
        key: "limits",
        value: '{"max":3}',
        description: null,
        is_encrypted: false,
      });

      const list = await h.json("GET", "/api/v2/variables");
      expect(list.status).toBe(200);
      expect(list.body.total_entries).toBe(2);
      expect(list.body.variables.map((v: any) => v.key)).toEqual(["api_url", "limits"]);
      expect((await h.json("GET", "/api/v2/variables?variable_key_pattern=lim")).body.variables.map((v: any) => v.key)).toEqual(["limits"]);

      const patched = await h.json("PATCH", "/api/v2/variables/api_url", { body: { key: "api_url", value: "http://y" } });
      expect(patched.status).toBe(200);
      expect(patched.body).toEqual({ key: "api_url", value: "http://y", description: "base", is_encrypted: false });
      const masked = await h.json("PATCH", "/api/v2/variables/api_url?update_mask=description", {
        body: { key: "api_url", value: "ignored", description: "new" },
      });
      expect(masked.body).toMatchObject({ value: "http://y", description: "new" });

      const del = await h.call("DELETE", "/api/v2/variables/api_url");
      expect(del.status).toBe(204);
      expect(await h.json("GET", "/api/v2/variables/api_url")).toEqual({
        status: 404,
        body: { detail: "The Variable with key: `api_url` was not found" },
      });
      expect((await h.json("DELETE", "/api/v2/variables/api_url")).status).toBe(404);
    });

    test("a variable whose key names a secret is shown masked and stored encrypted; tasks read the value", async () => {
      const h = await makeHarness();
      const r = await h.json("POST", "/api/v2/variables", { body: { key: "slack_token", value: "xoxb-123" } });
      expect(r.body).toEqual({ key: "slack_token", value: "***", description: null, is_encrypted: true });
      expect((await h.json("GET", "/api/v2/variables")).body.variables[0]).toEqual(r.body);
      expect((await h.store.getVariable("default", "slack_token"))?.value).toBe("xoxb-123");
      expect((await h.rawStore.getVariable("default", "slack_token"))?.value).not.toContain("xoxb-123");
    });

    test("is_encrypted: true in a body encrypts and masks any variable; sending *** back keeps the value", async () => {
      const h = await makeHarness();
      const r = await h.json("POST", "/api/v2/variables", { body: { key: "webhook_url", value: "https://hooks/abc", is_encrypted: true } });
      expect(r.body).toEqual({ key: "webhook_url", value: "***", description: null, is_encrypted: true });
      expect((await h.rawStore.getVariable("default", "webhook_url"))?.value).not.toContain("hooks");
      // A PATCH that leaves the flag out keeps it; "***" read back and sent again keeps the secret.
      const kept = await h.json("PATCH", "/api/v2/variables/webhook_url", { body: { key: "webhook_url", value: "***", description: "d" } });
      expect(kept.body).toEqual({ key: "webhook_url", value: "***", description: "d", is_encrypted: true });
      expect((await h.store.getVariable("default", "webhook_url"))?.value).toBe("https://hooks/abc");
      const plain = await h.json("PATCH", "/api/v2/variables/webhook_url", {
        body: { key: "webhook_url", value: "https://hooks/new", is_encrypted: false },
      });
      expect(plain.body).toEqual({ key: "webhook_url", value: "https://hooks/new", description: "d", is_encrypted: false });
      expect((await h.rawStore.getVariable("default", "webhook_url"))?.value).toBe("https://hooks/new");
      // A key that names a secret stays encrypted whatever the body says.
      const forced = await h.json("POST", "/api/v2/variables", { body: { key: "db_password", value: "pw", is_encrypted: false } });
      expect(forced.body).toMatchObject({ value: "***", is_encrypted: true });
      expect((await h.json("POST", "/api/v2/variables", { body: { key: "x", value: "v", is_encrypted: "yes" } })).status).toBe(422);
    });

    test("a duplicate key is 409, a key mismatch 400, a bad body 422, a viewer 403", async () => {
      const h = await makeHarness();
      await h.json("POST", "/api/v2/variables", { body: { key: "k", value: "v" } });
      const dup = await h.json("POST", "/api/v2/variables", { body: { key: "k", value: "w" } });
      expect(dup).toEqual({ status: 409, body: { detail: "The Variable with key: `k` already exists" } });
      const mismatch = await h.json("PATCH", "/api/v2/variables/k", { body: { key: "other", value: "v" } });
      expect(mismatch.status).toBe(400);
      expect(mismatch.body.detail).toContain("doesn't match uri parameter");
      const bad = await h.json("POST", "/api/v2/variables", { body: { value: "v", color: "red" } });
      expect(bad.status).toBe(422);
      expect(bad.body.detail.map((d: any) => d.loc)).toEqual([
        ["body", "key"],
        ["body", "color"],
      ]);
      const viewer = await h.json("POST", "/api/v2/variables", { body: { key: "x", value: "v" }, token: await h.token("viewer") });
      expect(viewer.status).toBe(403);
      expect((await h.json("GET", "/api/v2/variables", { token: null })).status).toBe(401);
    });
  });

  describe("PATCH /api/v2/variables (Airflow's bulk)", () => {
    test("create, update and delete in one request, each answered with its keys; a failed action changes nothing", async () => {
      const h = await makeHarness();
      await h.json("POST", "/api/v2/variables", { body: { key: "old", value: "1", description: "kept" } });
      await h.json("POST", "/api/v2/variables", { body: { key: "gone", value: "x" } });
      const r = await h.json("PATCH", "/api/v2/variables", {
        body: {
          actions: [
            { action: "create", entities: [{ key: "new", value: { n: 1 } }] },
            {
              action: "create",
              entities: [
                { key: "old", value: "2" },
                { key: "other", value: "3" },
              ],
            },
            { action: "update", entities: [{ key: "old", value: "9" }] },
            { action: "delete", entities: ["gone"] },
          ],
        },
      });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        create: { success: ["new"], errors: [{ error: "The variables with these keys: {'old'} already exist.", status_code: 409 }] },
        update: { success: ["old"], errors: [] },
        delete: { success: ["gone"], errors: [] },
      });
      const list = await h.json("GET", "/api/v2/variables");
      expect(list.body.variables.map((v: any) => [v.key, v.value, v.description])).toEqual([
        ["new", '{"n":1}', null],
        ["old", "9", "kept"],
      ]);
    });

    test("actions on one key apply in order, each over the one before: a create's description survives its update", async () => {
      const h = await makeHarness();
      const r = await h.json("PATCH", "/api/v2/variables", {
        body: {
          actions: [
            { action: "create", entities: [{ key: "k", value: "1", description: "from the create" }] },
            { action: "update", entities: [{ key: "k", value: "2" }] },
            { action: "update", entities: [{ key: "k", value: "3" }] },
          ],
        },
      });
      expect(r.body.update).toEqual({ success: ["k", "k"], errors: [] });
      expect((await h.json("GET", "/api/v2/variables/k")).body).toMatchObject({ value: "3", description: "from the create" });
    });

    test("skip and overwrite on existence; skip and fail on non-existence", async () => {
      const h = await makeHarness();
      await h.json("POST", "/api/v2/variables", { body: { key: "a", value: "1" } });
      const r = await h.json("PATCH", "/api/v2/variables", {
        body: {
          actions: [
            {
              action: "create",
              entities: [
                { key: "a", value: "skipped" },
                { key: "b", value: "2" },
              ],
              action_on_existence: "skip",
            },
            { action: "update", entities: [{ key: "nope", value: "x" }], action_on_non_existence: "skip" },
            { action: "delete", entities: ["missing"] },
          ],
        },
      });
      expect(r.body).toEqual({
        create: { success: ["b"], errors: [] },
        update: { success: [], errors: [] },
        delete: { success: [], errors: [{ error: "The variables with these keys: {'missing'} were not found.", status_code: 404 }] },
      });
      expect((await h.json("GET", "/api/v2/variables/a")).body.value).toBe("1");
      const over = await h.json("PATCH", "/api/v2/variables", {
        body: { actions: [{ action: "create", entities: [{ key: "a", value: "new" }], action_on_existence: "overwrite" }] },
      });
      expect(over.body).toEqual({ create: { success: ["a"], errors: [] }, update: null, delete: null });
      expect((await h.json("GET", "/api/v2/variables/a")).body.value).toBe("new");
    });

    test("secret variables are sealed; an update sending *** back keeps the secret", async () => {
      const h = await makeHarness();
      await h.json("PATCH", "/api/v2/variables", {
        body: { actions: [{ action: "create", entities: [{ key: "db_password", value: "pw1" }] }] },
      });
      expect((await h.rawStore.getVariable("default", "db_password"))?.value).not.toContain("pw1");
      await h.json("PATCH", "/api/v2/variables", {
        body: { actions: [{ action: "update", entities: [{ key: "db_password", value: "***", description: "d" }] }] },
      });
      expect(await h.store.getVariable("default", "db_password")).toMatchObject({ value: "pw1", description: "d" });
    });

    test("a bad body is a 422 naming the field; a viewer gets 403", async () => {
      const h = await makeHarness();
      const bad = await h.json("PATCH", "/api/v2/variables", { body: { actions: [{ action: "upsert", entities: [] }] } });
      expect(bad.status).toBe(422);
      expect(bad.body.detail[0].loc.slice(0, 3)).toEqual(["body", "actions", 0]);
      const viewer = await h.json("PATCH", "/api/v2/variables", { body: { actions: [] }, token: await h.token("viewer") });
      expect(viewer.status).toBe(403);
    });
  });
});
