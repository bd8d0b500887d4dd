/**
 * atomically(): a SQLite write in its own immediate transaction, or in the caller's when one is open, with no
 * savepoint of its own (6c5b399: the savepoints were a quarter of a chain hop's statements).
 */
import { Database } from "bun:sqlite";
import { beforeEach, describe, expect, test } from "bun:test";
import { atomically } from "../../src/store/sqlite/atomic";

let db: Database;
const names = () => (db.query("SELECT name FROM t ORDER BY name").all() as { name: string }[]).map((r) => r.name);
const insert = (name: string) => db.query("INSERT INTO t (name) VALUES (?)").run(name);

beforeEach(() => {
  db = new Database(":memory:");
  db.run("CREATE TABLE t (name TEXT PRIMARY KEY)");
});

describe("atomically", () => {
  test("with no transaction open: its own, committed whole or not at all", () => {
    atomically(db, () => (insert("a"), insert("b")));
    expect(names()).toEqual(["a", "b"]);
    expect(() => atomically(db, () => (insert("c"), insert("a")))).toThrow(/UNIQUE/);
    expect(names()).toEqual(["a", "b"]);
    expect(db.inTransaction).toBe(false);
  });

  test("inside a caller's transaction: its writes are the caller's, and its error undoes the caller's too", () => {
    db.transaction(() => {
      insert("a");
      atomically(db, () => insert("b"));
      expect(db.inTransaction).toBe(true);
    }).immediate();
    expect(names()).toEqual(["a", "b"]);
    expect(() =>
      db
        .transaction(() => {
          insert("c");
          atomically(db, () => (insert("d"), insert("a")));
        })
        .immediate(),
    ).toThrow(/UNIQUE/);
    expect(names()).toEqual(["a", "b"]);
  });

  test("no savepoint: a caller that catches the inner error keeps what the inner write did before it", () => {
    // Why no store code catches an inner write's error to go on (createDagRun keeps its own transaction for that).
    db.transaction(() => {
      try {
        atomically(db, () => (insert("x"), insert("x")));
      } catch {
        // swallowed on purpose
      }
    }).immediate();
    expect(names()).toEqual(["x"]);
  });
});
