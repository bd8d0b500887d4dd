/**
 * The SQLite store's background WAL checkpoints (wal-checkpointer.ts): the server's connection no longer
 * checkpoints at SQLite's 1,000 pages, a worker thread does, and a store opened without the option is as before.
 */
import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store";
import { BACKSTOP_PAGES } from "../../src/store/sqlite/wal-checkpointer";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const dbPath = () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-wal-"));
  dirs.push(dir);
  return join(dir, "leoflow.db");
};

/** ~`mib` MiB of WAL: rows of a table of our own, in commits of 100 rows. */
function writeWal(db: Database, mib: number): void {
  db.run("CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, body TEXT)");
  const insert = db.query("INSERT INTO filler (body) VALUES (?)");
  const body = "x".repeat(1000);
  for (let i = 0; i < mib * 10; i++)
    db.transaction(() => {
      for (let k = 0; k < 100; k++) insert.run(body);
    })();
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await Bun.sleep(25);
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

test("a store with background checkpoints leaves them to a worker, which copies the WAL into the database file", async () => {
  const path = dbPath();
  const store = new SqliteStore({ path, backgroundCheckpoints: { startAtBytes: 1024 * 1024, everyMs: 20 } });
  try {
    const auto = store.db.query<{ wal_autocheckpoint: number }, []>("PRAGMA wal_autocheckpoint").get();
    expect(auto?.wal_autocheckpoint).toBe(BACKSTOP_PAGES);
    expect(store.checkpoints?.running).toBe(false);
    const before = statSync(path).size;
    writeWal(store.db, 2);
    await until(() => store.checkpoints!.runs > 0 && store.checkpoints!.last!.checkpointed > 0, "a checkpoint by the worker");
    expect(store.checkpoints!.running).toBe(true);
    // The worker's checkpoint, not the connection's: the file grew by the rows while no commit checkpointed.
    await until(() => statSync(path).size > before + 1024 * 1024, "the database file to hold the rows");
    const last = store.checkpoints!.last!;
    expect(last.busy).toBe(0);
  } finally {
    await store.close();
  }
  expect(store.checkpoints?.running).toBe(false);
  // Closed cleanly: the worker's connection closed before the store's, which (closing last) removed the WAL.
  expect(existsSync(`${path}-wal`)).toBe(false);
  // Everything committed is there after close, read by a fresh connection.
  const db = new Database(path);
  expect(db.query<{ n: number }, []>("SELECT count(*) AS n FROM filler").get()?.n).toBe(2000);
  db.close();
});

test("without the option the connection checkpoints as SQLite does by default, and no worker starts", async () => {
  const store = new SqliteStore({ path: dbPath() });
  try {
    expect(store.checkpoints).toBeNull();
    const auto = store.db.query<{ wal_autocheckpoint: number }, []>("PRAGMA wal_autocheckpoint").get();
    expect(auto?.wal_autocheckpoint).toBe(1000);
  } finally {
    await store.close();
  }
});

test("an in-memory store ignores the option", async () => {
  const store = new SqliteStore({ path: ":memory:", backgroundCheckpoints: true });
  expect(store.checkpoints).toBeNull();
  await store.close();
});
