/**
 * One server per SQLite database (store/sqlite/server-lock.ts): a second lock on the same file is refused naming
 * the holder, a released or dead holder's lock is free again. The other process is a real one (a Bun child),
 * as a second `leoflow serve` would be.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lockSqliteForServer } from "../../src/store";

const dir = mkdtempSync(join(tmpdir(), "leoflow-server-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A child process that takes the lock, drops its handle and collects garbage (a collected handle once closed the
 * connection and so dropped the lock: seen in CI), prints "held", and keeps the lock until killed.
 */
function holdInChild(db: string) {
  const src = `const { lockSqliteForServer } = await import(${JSON.stringify(join(import.meta.dir, "../../src/store"))});
    lockSqliteForServer(${JSON.stringify(db)}, "the child with pid " + process.pid); Bun.gc(true); await Bun.sleep(10); Bun.gc(true);
    console.log("held"); setInterval(() => {}, 1000);`;
  const proc = Bun.spawn([process.execPath, "-e", src], { stdout: "pipe", stderr: "inherit" });
  const held = (async () => {
    const reader = proc.stdout.getReader();
    let out = "";
    while (!out.includes("held")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the child exited before taking the lock: ${out}`);
      out += new TextDecoder().decode(value);
    }
  })();
  return { proc, held };
}

describe("lockSqliteForServer", () => {
  test("a second server on the database is refused, naming the first; free again once it is released", () => {
    const db = join(dir, "a.db");
    const first = lockSqliteForServer(db, "the leoflow server with pid 1 (--port 8080)");
    expect(() => lockSqliteForServer(db, "second")).toThrow(
      `the database ${db} is in use by the leoflow server with pid 1 (--port 8080); one server per SQLite database: stop that one first, or give this one its own --db (or --data-dir)`,
    );
    first.release();
    lockSqliteForServer(db, "third").release();
  });

  test("held by another process: refused; that process killed (SIGKILL): the lock is free, nothing stale", async () => {
    const db = join(dir, "b.db");
    const child = holdInChild(db);
    try {
      await child.held;
      expect(() => lockSqliteForServer(db, "me")).toThrow(`is in use by the child with pid ${child.proc.pid}`);
    } finally {
      child.proc.kill("SIGKILL");
      await child.proc.exited;
    }
    lockSqliteForServer(db, "me").release();
  });

  test("an in-memory database needs no lock", () => {
    lockSqliteForServer(":memory:", "a").release();
    lockSqliteForServer(":memory:", "b").release();
  });
});
