/** The shared migration runner, driven through an in-memory MigrationTarget (no database needed). */
import { describe, expect, test } from "bun:test";
import { migrationFromFile, runMigrations, type Migration, type MigrationTarget } from "../../src/store";

function fakeTarget(applied: number[] = [], failOn?: number) {
  const log: number[] = [];
  const target: MigrationTarget = {
    async ensureMigrationsTable() {},
    async appliedVersions() {
      return [...applied];
    },
    async applyMigration(m: Migration) {
      if (m.version === failOn) throw new Error("syntax error near FOO");
      applied.push(m.version);
      log.push(m.version);
      return true;
    },
  };
  return { target, log };
}

const list = (...names: string[]) => names.map((n) => migrationFromFile(n, `-- ${n}`));

describe("runMigrations", () => {
  test("applies pending migrations in order, then nothing on a second run", async () => {
    const { target, log } = fakeTarget();
    const ms = list("0001_init.sql", "0002_pools.sql");
    expect((await runMigrations(ms, target)).map((m) => m.name)).toEqual(["init", "pools"]);
    expect(await runMigrations(ms, target)).toEqual([]);
    expect(log).toEqual([1, 2]);
  });

  test("applies only what is new", async () => {
    const { target, log } = fakeTarget([1]);
    await runMigrations(list("0001_init.sql", "0002_pools.sql"), target);
    expect(log).toEqual([2]);
  });

  test("refuses a database migrated by a newer release", async () => {
    const { target } = fakeTarget([1, 2, 3]);
    await expect(runMigrations(list("0001_init.sql"), target)).rejects.toThrow(
      "schema is at version 3 but this Leoflow knows migrations up to 1",
    );
  });

  test("names the failed migration and stops there", async () => {
    const { target, log } = fakeTarget([], 2);
    await expect(runMigrations(list("0001_init.sql", "0002_pools.sql", "0003_more.sql"), target)).rejects.toThrow(
      "migration 0002_pools failed and was rolled back: syntax error near FOO",
    );
    expect(log).toEqual([1]);
  });

  test("rejects gaps, duplicates and badly named files", async () => {
    await expect(runMigrations(list("0001_a.sql", "0003_c.sql"), fakeTarget().target)).rejects.toThrow("has version 3 but is number 2");
    await expect(runMigrations(list("0001_a.sql", "0001_b.sql"), fakeTarget().target)).rejects.toThrow("has version 1 but is number 2");
    expect(() => migrationFromFile("init.sql", "")).toThrow("is not of the form NNNN_name.sql");
    expect(migrationFromFile("sql/sqlite/0012_add_x.sql", "SQL")).toEqual({ version: 12, name: "add_x", sql: "SQL" });
  });
});
