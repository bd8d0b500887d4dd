import { describe, expect, test } from "bun:test";
import { authenticate, ensureAdminUser, generatePassword, hashPassword, verifyPassword } from "../../../src/auth";
import { openStore, type Store } from "../../../src/store";

const NOW = new Date("2026-03-01T12:00:00Z");

async function freshStore(): Promise<Store> {
  const store = openStore("sqlite::memory:");
  await store.migrate();
  return store;
}

describe("passwords", () => {
  test("argon2id hash verifies the right password only", async () => {
    const hash = await hashPassword("correct horse");
    expect(hash).toStartWith("$argon2id$");
    expect(await verifyPassword("correct horse", hash)).toBe(true);
    expect(await verifyPassword("wrong", hash)).toBe(false);
    expect(await verifyPassword("x", "not-a-hash")).toBe(false);
  });

  test("generated passwords are long and differ", () => {
    const a = generatePassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(generatePassword()).not.toBe(a);
  });
});

describe("ensureAdminUser", () => {
  test("servers first started together against one new database: one creates the admin, only its password is printed", async () => {
    const store = await freshStore();
    const starts = await Promise.all([1, 2, 3].map(() => ensureAdminUser(store, { now: NOW })));
    const printed = starts.flatMap((r) => (r.generatedPassword ? [r.generatedPassword] : []));
    expect(printed).toHaveLength(1);
    expect(starts.filter((r) => r.created)).toHaveLength(1);
    expect((await authenticate(store, "admin", printed[0]!))?.role).toBe("admin");
  });

  test("first start without a password generates one, returned once, that logs in", async () => {
    const store = await freshStore();
    const r = await ensureAdminUser(store, { now: NOW });
    expect(r.created).toBe(true);
    expect(r.generatedPassword).toBeString();
    expect((await authenticate(store, "admin", r.generatedPassword!))?.role).toBe("admin");
    const again = await ensureAdminUser(store, { now: NOW });
    expect(again).toEqual({ created: false, updated: false });
    // the password is unchanged by the second start
    expect(await authenticate(store, "admin", r.generatedPassword!)).not.toBeNull();
  });

  test("an explicit password creates, and later replaces, the admin's", async () => {
    const store = await freshStore();
    expect(await ensureAdminUser(store, { password: "first-pass", now: NOW })).toEqual({ created: true, updated: false });
    expect(await authenticate(store, "admin", "first-pass")).not.toBeNull();
    expect(await ensureAdminUser(store, { password: "second-pass", now: NOW })).toEqual({ created: false, updated: true });
    expect(await authenticate(store, "admin", "first-pass")).toBeNull();
    expect(await authenticate(store, "admin", "second-pass")).not.toBeNull();
  });

  test("a restart with the same password leaves the stored hash alone", async () => {
    const store = await freshStore();
    await ensureAdminUser(store, { password: "same-one", now: NOW });
    const before = (await store.getUser("admin"))!.password_hash;
    expect(await ensureAdminUser(store, { password: "same-one", now: NOW })).toEqual({ created: false, updated: false });
    expect((await store.getUser("admin"))!.password_hash).toBe(before);
    expect((await authenticate(store, "admin", "same-one"))?.username).toBe("admin");
  });

  test("an empty password is refused with how to fix it", async () => {
    const store = await freshStore();
    await expect(ensureAdminUser(store, { password: "", now: NOW })).rejects.toThrow(/LEOFLOW_ADMIN_PASSWORD/);
  });

  test("unknown users do not authenticate", async () => {
    const store = await freshStore();
    expect(await authenticate(store, "nobody", "x")).toBeNull();
  });

  test("a deleted admin is not recreated at start while another Admin exists", async () => {
    const store = await freshStore();
    await store.putUser({ username: "root", password_hash: await hashPassword("root-password"), role: "admin" }, NOW);
    expect(await ensureAdminUser(store, { now: NOW })).toEqual({ created: false, updated: false });
    expect(await store.getUser("admin")).toBeNull();
  });
});
