/**
 * Store contract for variables and connections (issue 6): CRUD, create-only conflicts, paging, patterns; and
 * secrets at rest (issue 12): the rotation batch, and withSecrets + rotateSecrets over each store.
 */
import { describe, expect, test } from "bun:test";
import { SecretUnreadableError, SecretsCipher, isSealed, sealedKeyId } from "../../src/store";
import { ConflictError, type ConnectionRecord } from "../../src/domain";
import { rotateSecrets, withSecrets, type Store } from "../../src/store";

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
  is_encrypted: false,
  is_extra_encrypted: false,
  ...over,
});

export function variablesContract(getStore: () => Store): void {
  describe("variables", () => {
    test("put, get, replace, delete", async () => {
      const store = getStore();
      expect(await store.getVariable("default", "api_url")).toBeNull();
      expect(await store.putVariable("default", { key: "api_url", value: "http://x", description: "where" }, T0)).toEqual({
        key: "api_url",
        value: "http://x",
        description: "where",
        is_encrypted: false,
      });
      await store.putVariable("default", { key: "api_url", value: "http://y", description: null }, T0);
      expect(await store.getVariable("default", "api_url")).toEqual({
        key: "api_url",
        value: "http://y",
        description: null,
        is_encrypted: false,
      });
      expect(await store.getVariable("default", "API_URL")).toBeNull();
      expect(await store.deleteVariable("default", "api_url")).toBe(true);
      expect(await store.deleteVariable("default", "api_url")).toBe(false);
      expect(await store.getVariable("default", "api_url")).toBeNull();
    });

    test("is_encrypted (Airflow's column) is kept as given, false when absent", async () => {
      const store = getStore();
      await store.putVariable("default", { key: "k", value: "lf1:0a0b0c0d:AAAA", description: null, is_encrypted: true }, T0);
      expect(await store.getVariable("default", "k")).toEqual({
        key: "k",
        value: "lf1:0a0b0c0d:AAAA",
        description: null,
        is_encrypted: true,
      });
      await store.putVariable("default", { key: "k", value: "plain", description: null }, T0);
      expect((await store.listVariables("default")).items).toEqual([{ key: "k", value: "plain", description: null, is_encrypted: false }]);
      await store.putConnection("default", conn("c", { is_encrypted: true }), T0);
      expect(await store.getConnection("default", "c")).toEqual(conn("c", { is_encrypted: true }));
    });

    test("onlyIfAbsent refuses an existing key with ConflictError and keeps the stored value", async () => {
      const store = getStore();
      await store.putVariable("default", { key: "k", value: "first", description: null }, T0, { onlyIfAbsent: true });
      const second = store.putVariable("default", { key: "k", value: "second", description: null }, T0, { onlyIfAbsent: true });
      await expect(second).rejects.toBeInstanceOf(ConflictError);
      await expect(second).rejects.toThrow("The Variable with key: `k` already exists");
      expect((await store.getVariable("default", "k"))?.value).toBe("first");
    });

    test("list pages by key, orders, and filters by a case-insensitive LIKE pattern", async () => {
      const store = getStore();
      for (const k of ["b_key", "a_key", "c_other"])
        await store.putVariable("default", { key: k, value: k.toUpperCase(), description: `d ${k}` }, T0);
      const all = await store.listVariables("default");
      expect(all.total).toBe(3);
      expect(all.items.map((v) => v.key)).toEqual(["a_key", "b_key", "c_other"]);
      expect((await store.listVariables("default", { order_by: "-key", limit: 1, offset: 1 })).items.map((v) => v.key)).toEqual(["b_key"]);
      const filtered = await store.listVariables("default", { key_pattern: "%KEY%" });
      expect(filtered.total).toBe(2);
      expect(filtered.items.map((v) => v.key)).toEqual(["a_key", "b_key"]);
      await expect(store.listVariables("default", { order_by: "value" })).rejects.toThrow('cannot order by "value"');
    });
  });

  describe("connections", () => {
    test("put, get with the real password, replace every field, delete", async () => {
      const store = getStore();
      expect(await store.getConnection("default", "api")).toBeNull();
      await store.putConnection("default", conn("api"), T0);
      expect(await store.getConnection("default", "api")).toEqual(conn("api"));
      const bare = conn("api", { host: null, login: null, password: null, schema: null, port: null, extra: null, conn_type: "https" });
      expect(await store.putConnection("default", bare, T0)).toEqual(bare);
      expect(await store.getConnection("default", "api")).toEqual(bare);
      expect(await store.deleteConnection("default", "api")).toBe(true);
      expect(await store.deleteConnection("default", "api")).toBe(false);
    });

    test("onlyIfAbsent refuses an existing id with ConflictError", async () => {
      const store = getStore();
      await store.putConnection("default", conn("api"), T0, { onlyIfAbsent: true });
      await expect(store.putConnection("default", conn("api", { host: "other" }), T0, { onlyIfAbsent: true })).rejects.toThrow(
        "The connection with connection_id: `api` already exists",
      );
      expect((await store.getConnection("default", "api"))?.host).toBe("api.example.com");
    });

    test("list pages by connection_id, orders by conn_type, filters by pattern", async () => {
      const store = getStore();
      await store.putConnection("default", conn("zeta", { conn_type: "a" }), T0);
      await store.putConnection("default", conn("alpha", { conn_type: "c" }), T0);
      await store.putConnection("default", conn("mid", { conn_type: "b" }), T0);
      const all = await store.listConnections("default");
      expect(all.total).toBe(3);
      expect(all.items.map((c) => c.connection_id)).toEqual(["alpha", "mid", "zeta"]);
      expect((await store.listConnections("default", { order_by: "conn_type" })).items.map((c) => c.connection_id)).toEqual([
        "zeta",
        "mid",
        "alpha",
      ]);
      expect((await store.listConnections("default", { id_pattern: "%ID%" })).items.map((c) => c.connection_id)).toEqual(["mid"]);
      expect((await store.listConnections("default", { limit: 1, offset: 2 })).items.map((c) => c.connection_id)).toEqual(["zeta"]);
    });
  });

  describe("rewriteSecrets (the rotation batch)", () => {
    test("replaces every value that still holds its `from`, in one go, and counts the rows", async () => {
      const store = getStore();
      await store.putVariable("default", { key: "a_token", value: "old-a", description: null }, T0);
      await store.putVariable("default", { key: "b_token", value: "old-b", description: "kept" }, T0);
      await store.putConnection("default", conn("api", { password: "old-p", extra: null }), T0);
      const n = await store.rewriteSecrets([
        { team: "default", variable: "a_token", from: "old-a", to: "new-a" },
        { team: "default", variable: "b_token", from: "old-b", to: "new-b" },
        { team: "default", connection_id: "api", from: { password: "old-p", extra: null }, to: { password: "new-p", extra: null } },
      ]);
      expect(n).toBe(3);
      // What a rotation writes is sealed: the rows are marked encrypted.
      expect(await store.getVariable("default", "a_token")).toEqual({
        key: "a_token",
        value: "new-a",
        description: null,
        is_encrypted: true,
      });
      expect(await store.getVariable("default", "b_token")).toEqual({
        key: "b_token",
        value: "new-b",
        description: "kept",
        is_encrypted: true,
      });
      expect(await store.getConnection("default", "api")).toEqual(conn("api", { password: "new-p", extra: null, is_encrypted: true }));
      expect(await store.rewriteSecrets([])).toBe(0);
    });

    test("a row that changed or is gone refuses the whole batch with ConflictError; nothing changes", async () => {
      const store = getStore();
      await store.putVariable("default", { key: "a_token", value: "old-a", description: null }, T0);
      await store.putConnection("default", conn("api", { password: "old-p", extra: "{}" }), T0);
      const stale = [
        [
          { team: "default", variable: "a_token", from: "old-a", to: "new-a" },
          { team: "default", connection_id: "api", from: { password: "old-p", extra: null }, to: { password: "new-p", extra: null } },
        ],
        [
          { team: "default", connection_id: "api", from: { password: "old-p", extra: "{}" }, to: { password: "new-p", extra: "{}" } },
          { team: "default", variable: "gone", from: "x", to: "y" },
        ],
      ] as const;
      for (const batch of stale) {
        await expect(store.rewriteSecrets([...batch])).rejects.toBeInstanceOf(ConflictError);
        expect((await store.getVariable("default", "a_token"))?.value).toBe("old-a");
        expect(await store.getConnection("default", "api")).toEqual(conn("api", { password: "old-p", extra: "{}" }));
      }
    });
  });

  describe("secrets at rest (withSecrets over this store)", () => {
    const k1 = new SecretsCipher(Buffer.alloc(32, 1));
    const k2 = new SecretsCipher(Buffer.alloc(32, 2));

    test("callers see plain text; the store holds only envelopes; is_encrypted tells which", async () => {
      const raw = getStore();
      const store = withSecrets(raw, k1);
      const put = await store.putConnection("default", conn("api"), T0);
      expect(put).toEqual({ ...conn("api"), is_encrypted: true, is_extra_encrypted: true });
      expect(await store.getConnection("default", "api")).toEqual(put);
      expect((await store.listConnections("default")).items).toEqual([put]);
      const stored = (await raw.getConnection("default", "api"))!;
      expect(stored).toMatchObject({ host: "api.example.com", login: "bot" });
      expect(isSealed(stored.password!) && isSealed(stored.extra!)).toBe(true);
      expect(JSON.stringify(stored)).not.toContain("s3cret");
      expect(JSON.stringify(stored)).not.toContain("t0k");

      await store.putVariable("default", { key: "db_password", value: "hunter2", description: null }, T0);
      await store.putVariable("default", { key: "flagged", value: "quiet", description: null, is_encrypted: true }, T0);
      await store.putVariable("default", { key: "region", value: "eu", description: null }, T0);
      expect((await store.listVariables("default")).items).toEqual([
        { key: "db_password", value: "hunter2", description: null, is_encrypted: true },
        { key: "flagged", value: "quiet", description: null, is_encrypted: true },
        { key: "region", value: "eu", description: null, is_encrypted: false },
      ]);
      expect((await raw.listVariables("default")).items.map((v) => [isSealed(v.value), v.is_encrypted])).toEqual([
        [true, true],
        [true, true],
        [false, false],
      ]);
      expect((await raw.getVariable("default", "region"))?.value).toBe("eu");
      // The flag, not the look of a value, says what is encrypted.
      await store.putVariable(
        "default",
        { key: "looks_sealed", value: `lf1:${k1.keyId}:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, description: null },
        T0,
      );
      expect((await store.getVariable("default", "looks_sealed"))?.value).toBe(`lf1:${k1.keyId}:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
    });

    test("rows written before encryption read as they are, and are sealed on their next write", async () => {
      const raw = getStore();
      await raw.putConnection("default", conn("legacy"), T0);
      await raw.putVariable("default", { key: "api_key", value: "plain", description: null }, T0);
      const store = withSecrets(raw, k1);
      expect(await store.getConnection("default", "legacy")).toEqual({ ...conn("legacy"), is_encrypted: false, is_extra_encrypted: false });
      expect(await store.getVariable("default", "api_key")).toEqual({
        key: "api_key",
        value: "plain",
        description: null,
        is_encrypted: false,
      });
      await store.putConnection("default", { ...conn("legacy"), host: "new" }, T0);
      expect(isSealed((await raw.getConnection("default", "legacy"))!.password!)).toBe(true);
    });

    test("a value under another key is a clear error, not garbage", async () => {
      const raw = getStore();
      await withSecrets(raw, k1).putConnection("default", conn("api"), T0);
      await expect(withSecrets(raw, k2).getConnection("default", "api")).rejects.toThrow(
        `cannot decrypt connection api (password): the secrets key differs from the one it was written with (written under key id ${k1.keyId}`,
      );
      await expect(withSecrets(raw, k2).listConnections("default")).rejects.toBeInstanceOf(SecretUnreadableError);
    });

    test("rotation re-seals every secret under the new key, seals plain ones, and a second run changes nothing", async () => {
      const raw = getStore();
      const before = withSecrets(raw, k1);
      await before.putConnection("default", conn("api"), T0);
      await before.putConnection("default", conn("bare", { password: null, extra: null }), T0);
      await before.putVariable("default", { key: "db_password", value: "hunter2", description: null }, T0);
      await before.putVariable("default", { key: "region", value: "eu", description: null }, T0);
      await raw.putVariable("default", { key: "old_secret", value: "from-before", description: null }, T0);

      expect(await rotateSecrets(raw, { old: k1, next: k2 })).toEqual({
        variables: 2,
        connections: 1,
        webhooks: 0,
        already: 0,
        sealed_plaintext: 1,
      });
      const after = withSecrets(raw, k2);
      expect(await after.getConnection("default", "api")).toMatchObject({
        password: "s3cret",
        extra: '{"token":"t0k"}',
        is_encrypted: true,
      });
      expect(await after.getVariable("default", "db_password")).toMatchObject({ value: "hunter2", is_encrypted: true });
      expect(await after.getVariable("default", "old_secret")).toMatchObject({ value: "from-before", is_encrypted: true });
      expect(await after.getVariable("default", "region")).toMatchObject({ value: "eu", is_encrypted: false });
      expect(sealedKeyId((await raw.getVariable("default", "db_password"))!.value)).toBe(k2.keyId);
      await expect(before.getVariable("default", "db_password")).rejects.toThrow("the secrets key differs");

      expect(await rotateSecrets(raw, { old: k1, next: k2 })).toEqual({
        variables: 0,
        connections: 0,
        webhooks: 0,
        already: 4,
        sealed_plaintext: 0,
      });
    });

    test("a wrong old key is refused before anything is written", async () => {
      const raw = getStore();
      await withSecrets(raw, k1).putVariable("default", { key: "a_token", value: "a", description: null }, T0);
      await withSecrets(raw, k1).putConnection("default", conn("api"), T0);
      const k3 = new SecretsCipher(Buffer.alloc(32, 3));
      const snapshot = [await raw.listVariables("default"), await raw.listConnections("default")];
      await expect(rotateSecrets(raw, { old: k3, next: k2 })).rejects.toThrow(
        `cannot re-encrypt variable a_token: it was written under key id ${k1.keyId}, which is neither the old key (id ${k3.keyId}) nor the new key (id ${k2.keyId}); nothing was changed`,
      );
      await expect(rotateSecrets(raw, { old: null, next: k2 })).rejects.toThrow("an old key (none was given)");
      expect([await raw.listVariables("default"), await raw.listConnections("default")]).toEqual(snapshot);
    });
  });
}
