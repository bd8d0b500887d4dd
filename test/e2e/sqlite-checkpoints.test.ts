/**
 * The compiled server checkpoints its SQLite WAL on a worker thread (src/store/sqlite/wal-checkpointer.ts): the
 * worker's file must be inside the binary, and its checkpoints must reach the database file.
 */
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { startLeoflow, waitFor } from "./harness";

test("the binary's server copies a large WAL into the database file from its worker thread", async () => {
  const lf = await startLeoflow({ dagsFrom: resolve(import.meta.dir, "../fixtures/inline") });
  const path = join(lf.dir, "leoflow.db");
  // A second writer that never checkpoints (and stays open, so closing it cannot checkpoint either): with the
  // server's own connection checkpointing only past 10,000 pages, only the worker can copy these ~6 MiB.
  const db = new Database(path);
  try {
    db.run("PRAGMA wal_autocheckpoint = 0");
    db.run("PRAGMA busy_timeout = 5000");
    db.run("CREATE TABLE e2e_filler (id INTEGER PRIMARY KEY, body TEXT)");
    const insert = db.query("INSERT INTO e2e_filler (body) VALUES (?)");
    const before = statSync(path).size;
    for (let i = 0; i < 60; i++)
      db.transaction(() => {
        for (let k = 0; k < 100; k++) insert.run("x".repeat(1000));
      })();
    await waitFor(
      async () => statSync(path).size > before + 5 * 1024 * 1024,
      10_000,
      () => `the database file stayed at ${statSync(path).size} bytes (was ${before}): no checkpoint ran\n${lf.output()}`,
    );
    // And the server goes on serving from the same file.
    expect((await lf.api("GET", "/api/v2/dags")).status).toBe(200);
  } finally {
    db.close();
    expect(await lf.stop()).toBe(0);
  }
}, 30_000);
