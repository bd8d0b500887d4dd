/** Store contract for variables and connections (issue 6): CRUD, create-only conflicts, paging, patterns. */
import { describe, expect, test } from "bun:test";
import { ConflictError } from "../../src/domain";
import type { ConnectionRecord, Store } from "../../src/store";

const T0 = new Date("2026-01-01T00:00:00.000Z");

const conn = (id: string, over: Partial<ConnectionRecord> = {}): ConnectionRecord => ({
  connection_id: id,
  conn_type: "http",
  description: null,
  host: "api.example.com",
  login: "bot",
  password: "s3cret",
  schema: "v1",
  port: 8443,
  extra: '{"token":"t0k"}',
  ...over,
});

export function variablesContract(getStore: () => Store): void {
  describe("variables", () => {
    test("put, get, replace, delete", async () => {
      const store = getStore();
      expect(await store.getVariable("api_url")).toBeNull();
      expect(await store.putVariable({ key: "api_url", value: "http://x", description: "where" }, T0)).toEqual({
        key: "api_url",
        value: "http://x",
        description: "where",
      });
      await store.putVariable({ key: "api_url", value: "http://y", description: null }, T0);
      expect(await store.getVariable("api_url")).toEqual({ key: "api_url", value: "http://y", description: null });
      expect(await store.getVariable("API_URL")).toBeNull();
      expect(await store.deleteVariable("api_url")).toBe(true);
      expect(await store.deleteVariable("api_url")).toBe(false);
      expect(await store.getVariable("api_url")).toBeNull();
    });

    test("onlyIfAbsent refuses an existing key with ConflictError and keeps the stored value", async () => {
      const store = getStore();
      await store.putVariable({ key: "k", value: "first", description: null }, T0, { onlyIfAbsent: true });
      const second = store.putVariable({ key: "k", value: "second", description: null }, T0, { onlyIfAbsent: true });
      await expect(second).rejects.toBeInstanceOf(ConflictError);
      await expect(second).rejects.toThrow("The Variable with key: `k` already exists");
      expect((await store.getVariable("k"))?.value).toBe("first");
    });

    test("list pages by key, orders, and filters by a case-insensitive LIKE pattern", async () => {
      const store = getStore();
      for (const k of ["b_key", "a_key", "c_other"]) await store.putVariable({ key: k, value: k.toUpperCase(), description: `d ${k}` }, T0);
      const all = await store.listVariables();
      expect(all.total).toBe(3);
      expect(all.items.map((v) => v.key)).toEqual(["a_key", "b_key", "c_other"]);
      expect((await store.listVariables({ order_by: "-key", limit: 1, offset: 1 })).items.map((v) => v.key)).toEqual(["b_key"]);
      const filtered = await store.listVariables({ key_pattern: "%KEY%" });
      expect(filtered.total).toBe(2);
      expect(filtered.items.map((v) => v.key)).toEqual(["a_key", "b_key"]);
      await expect(store.listVariables({ order_by: "value" })).rejects.toThrow('cannot order by "value"');
    });
  });

  describe("connections", () => {
    test("put, get with the real password, replace every field, delete", async () => {
      const store = getStore();
      expect(await store.getConnection("api")).toBeNull();
      await store.putConnection(conn("api"), T0);
      expect(await store.getConnection("api")).toEqual(conn("api"));
      const bare = conn("api", { host: null, login: null, password: null, schema: null, port: null, extra: null, conn_type: "https" });
      expect(await store.putConnection(bare, T0)).toEqual(bare);
      expect(await store.getConnection("api")).toEqual(bare);
      expect(await store.deleteConnection("api")).toBe(true);
      expect(await store.deleteConnection("api")).toBe(false);
    });

    test("onlyIfAbsent refuses an existing id with ConflictError", async () => {
      const store = getStore();
      await store.putConnection(conn("api"), T0, { onlyIfAbsent: true });
      await expect(store.putConnection(conn("api", { host: "other" }), T0, { onlyIfAbsent: true })).rejects.toThrow(
        "The connection with connection_id: `api` already exists",
      );
      expect((await store.getConnection("api"))?.host).toBe("api.example.com");
    });

    test("list pages by connection_id, orders by conn_type, filters by pattern", async () => {
      const store = getStore();
      await store.putConnection(conn("zeta", { conn_type: "a" }), T0);
      await store.putConnection(conn("alpha", { conn_type: "c" }), T0);
      await store.putConnection(conn("mid", { conn_type: "b" }), T0);
      const all = await store.listConnections();
      expect(all.total).toBe(3);
      expect(all.items.map((c) => c.connection_id)).toEqual(["alpha", "mid", "zeta"]);
      expect((await store.listConnections({ order_by: "conn_type" })).items.map((c) => c.connection_id)).toEqual(["zeta", "mid", "alpha"]);
      expect((await store.listConnections({ id_pattern: "%ID%" })).items.map((c) => c.connection_id)).toEqual(["mid"]);
      expect((await store.listConnections({ limit: 1, offset: 2 })).items.map((c) => c.connection_id)).toEqual(["zeta"]);
    });
  });
}
