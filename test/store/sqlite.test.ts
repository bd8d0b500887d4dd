/** The Store contract on SQLite (a fresh :memory: database per test), plus what only a file can show. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDagSpec } from "../../src/domain";
import { SqliteStore } from "../../src/store";
import { SQLITE_MIGRATIONS } from "../../src/store/sqlite/migrations";
import { runStoreContract } from "./contract";
import { newRun } from "./contract-fixtures";

runStoreContract("sqlite", async () => new SqliteStore({ path: ":memory:" }));

describe("SqliteStore on a file", () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-store-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("state survives reopening, and migrating again applies nothing", async () => {
    const path = join(dir, "leoflow.db");
    const now = new Date("2026-01-01T00:00:00Z");
    const first = new SqliteStore({ path });
    await first.migrate();
    const spec = parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] });
    const dag = await first.upsertDag({ spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now });
    const run = await first.createDagRun(newRun(dag, "r1", { logical_date: now, conf: { a: 1 }, queued_at: now }));
    await first.close();

    const second = new SqliteStore({ path });
    await second.migrate();
    await second.migrate();
    expect(await second.getDag("etl")).toEqual(dag);
    expect(await second.getDagRun("etl", "r1")).toEqual(run);
    expect(await second.listActiveRunIds()).toEqual([run.id]);
    const migrations = second.db.query("SELECT version, name FROM schema_migrations").all();
    expect(migrations).toEqual(SQLITE_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    expect(second.db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(second.db.query("PRAGMA foreign_keys").get()).toEqual({ foreign_keys: 1 });
    await second.close();
  });

  test("a custom xcomMaxBytes is the limit the error names", async () => {
    const store = new SqliteStore({ path: ":memory:", xcomMaxBytes: 10 });
    await store.migrate();
    const key = { dag_id: "d", run_id: "r", task_id: "t", key: "k" };
    await store.setXCom(key, "12345678", new Date(0)); // 10 bytes with quotes: fits
    await expect(store.setXCom(key, "123456789", new Date(0))).rejects.toThrow(
      "XCom k of task t is 11 bytes; the limit is 10 bytes (--xcom-max-bytes)",
    );
    await store.close();
  });
});
