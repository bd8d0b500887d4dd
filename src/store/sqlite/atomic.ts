import type { Database } from "bun:sqlite";

/**
 * `fn` in one immediate transaction, or in the caller's when one is open. A write another write runs inside (an
 * inline end's log lines, its transitions, its XCom) needs no savepoint of its own: nothing in the store catches
 * such a write's error to go on with the rest, so the savepoint would never be rolled back alone, and its
 * SAVEPOINT and RELEASE were a quarter of the statements a chain's hop ran. createDagRun keeps its own
 * transaction: createDagRuns undoes one taken run id by its savepoint.
 */
export function atomically<T>(db: Database, fn: () => T): T {
  return db.inTransaction ? fn() : db.transaction(fn).immediate();
}
