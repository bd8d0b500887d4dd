/**
 * `leoflow db backup PATH` on a Lite store while the server writes to it, and a server started on the
 * restored copy serving what the copy holds.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { $ } from "bun";
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, startLeoflow } from "./harness";

setDefaultTimeout(60_000);
const work = mkdtempSync(join(tmpdir(), "leoflow-backup-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("leoflow db backup", () => {
  test("copies the store while the server writes, and a server on the restored copy serves it", async () => {
    const original = join(work, "original");
    mkdirSync(join(original, "dags"), { recursive: true });
    const lf = await startLeoflow({ dir: original });
    const db = `sqlite:${join(lf.dir, "leoflow.db")}`;
    const backup = join(work, "backup.db");
    let written = 0;
    let writing = true;
    try {
      expect((await lf.api("POST", "/api/v2/variables", { key: "greeting", value: "hello" })).status).toBe(201);
      // Writes go on during the backup: the copy must hold a consistent prefix of them.
      const writer = (async () => {
        while (writing) {
          const r = await lf.api("POST", "/api/v2/variables", { key: `v${written + 1}`, value: "x".repeat(2000) });
          if (r.status !== 201) throw new Error(`write failed: ${r.status} ${JSON.stringify(r.body)}`);
          written++;
        }
      })();
      while (written < 50) await Bun.sleep(10);
      const before = written;
      const r = await $`${BINARY} db backup ${backup} --db ${db}`.quiet().nothrow();
      const after = written;
      writing = false;
      await writer;
      expect(r.stderr.toString()).toBe("");
      expect(r.exitCode).toBe(0);
      expect(r.stdout.toString()).toMatch(
        new RegExp(`^backed up .*leoflow\\.db to ${backup} \\(\\d+ KiB, schema version \\d+, [\\d.]+ s\\)\\n$`),
      );
      expect(written).toBeGreaterThan(after - 1); // the server kept writing through it

      const copy = new Database(backup, { readonly: true });
      const keys = (copy.query("SELECT key FROM variables").all() as { key: string }[]).map((k) => k.key);
      copy.close();
      const numbered = keys.filter((k) => /^v\d+$/.test(k)).map((k) => Number(k.slice(1)));
      // A prefix: v1…vN with no gap, N between what was written before and after the backup ran.
      expect(numbered.length).toBeGreaterThanOrEqual(before);
      expect(numbered.length).toBeLessThanOrEqual(after + 1);
      expect(Math.max(...numbered)).toBe(numbered.length);
      expect(keys).toContain("greeting");

      // Restore: the copy as another install's store, with the data dir's keys (secrets stay encrypted under them).
      const restored = join(work, "restored");
      mkdirSync(join(restored, "data"), { recursive: true });
      mkdirSync(join(restored, "dags"));
      copyFileSync(backup, join(restored, "leoflow.db"));
      for (const f of readdirSync(join(lf.dir, "data")).filter((f) => !f.endsWith(".json")))
        copyFileSync(join(lf.dir, "data", f), join(restored, "data", f));
      const second = await startLeoflow({ dir: restored });
      try {
        expect((await second.api("GET", "/api/v2/variables/greeting")).body).toMatchObject({ value: "hello" });
        const listed = await second.api("GET", "/api/v2/variables?limit=1");
        expect(listed.body.total_entries).toBe(numbered.length + 1);
      } finally {
        await second.stop();
      }
    } finally {
      writing = false;
      await lf.stop();
    }
  });

  test("never overwrites a file, and sends Postgres users to pg_dump", async () => {
    const existing = join(work, "exists.db");
    await Bun.write(existing, "keep me");
    const dir = mkdtempSync(join(work, "src-"));
    const store = join(dir, "leoflow.db");
    new Database(store).close();
    const over = await $`${BINARY} db backup ${existing} --db sqlite:${store}`.quiet().nothrow();
    expect(over.exitCode).toBe(1);
    expect(over.stderr.toString()).toContain(`${existing} already exists; name a new file`);
    expect(await Bun.file(existing).text()).toBe("keep me");

    const pg = await $`${BINARY} db backup ${join(work, "pg.db")} --db postgres://u:secret@h/db`.quiet().nothrow();
    expect(pg.exitCode).toBe(1);
    expect(pg.stderr.toString()).toContain("postgres://u:***@h/db is not a SQLite store; back up a Postgres store with pg_dump");

    const missing = await $`${BINARY} db backup ${join(work, "m.db")} --db sqlite:${join(work, "none.db")}`.quiet().nothrow();
    expect(missing.stderr.toString()).toContain(`there is no SQLite store at ${join(work, "none.db")}`);
    expect(existsSync(join(work, "m.db"))).toBe(false);

    const usage = await $`${BINARY} db backup`.quiet().nothrow();
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr.toString()).toContain("db backup PATH");
  });
});
