/** openStore: which --db URLs open which store, and what a wrong one says. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore, openStore, sqlitePathOf } from "../../src/store";
import { PostgresStore } from "../../src/store/postgres";

describe("openStore", () => {
  // Made when its tests run: a name filter (bun test -t) that skips them all then leaves no folder behind.
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "leoflow-open-"));
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  test.each([
    ["sqlite:./data/x.db", "./data/x.db"],
    ["sqlite:///var/lib/leoflow/x.db", "/var/lib/leoflow/x.db"],
    ["sqlite://rel/x.db", "rel/x.db"],
    ["sqlite::memory:", ":memory:"],
    ["/abs/leoflow.db", "/abs/leoflow.db"],
    ["leoflow.sqlite", "leoflow.sqlite"],
    ["postgres://u@h/db", null],
    ["mysql://h/x.db", null],
    ["leoflow", null],
  ])("%s names %p", (url, path) => {
    expect(sqlitePathOf(url)).toBe(path);
  });

  test("a sqlite URL opens a SqliteStore, creating missing parent directories", async () => {
    const path = join(dir, "nested", "deeper", "leoflow.db");
    const store = openStore(`sqlite:${path}`);
    expect(store).toBeInstanceOf(SqliteStore);
    await store.migrate();
    expect(existsSync(path)).toBe(true);
    await store.close();
  });

  test("a bare .db path works too", async () => {
    const store = openStore(join(dir, "bare.db"));
    await store.migrate();
    expect((await store.listDags("default")).total).toBe(0);
    await store.close();
  });

  test("a postgres URL opens a PostgresStore; errors about it never echo the password", async () => {
    const store = openStore("postgres://leo:s3cret@127.0.0.1:1/leoflow?search_path=leo_schema");
    expect(store).toBeInstanceOf(PostgresStore);
    expect((store as PostgresStore).schema).toBe("leo_schema");
    const err = (await store.migrate().catch((e: unknown) => e)) as Error;
    expect(err.message).toContain("migrating Postgres at postgres://leo:***@127.0.0.1:1/leoflow");
    expect(err.message).not.toContain("s3cret");
    await store.close();
    expect(() => openStore("postgresql://leo:s3cret@[bad/leoflow")).toThrow("postgresql://leo:***@");
    expect(() => openStore("postgresql://leo:s3cret@[bad/leoflow")).not.toThrow("s3cret");
  });

  test("anything else explains the accepted forms", () => {
    expect(() => openStore("mysql://h/db")).toThrow("use sqlite:PATH");
    expect(() => openStore("sqlite:")).toThrow("names no file");
  });
});
