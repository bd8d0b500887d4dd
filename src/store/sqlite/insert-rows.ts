/**
 * Multi-row INSERTs for the appends a busy server makes on its own thread (lifecycle events, inline tasks' log
 * lines): a batch goes in 64 rows a statement and one statement for the rest, each text prepared once, instead
 * of a statement per row (events: 2.7 → 1.55 µs a row, microbenchmark, batches of 80).
 */
import type { Database, SQLQueryBindings } from "bun:sqlite";

const ROWS_PER_INSERT = 64;

/**
 * Runs `head` (an INSERT up to its VALUES keyword) over `rows`, each `width` values, with `tail` after the values
 * (an upsert clause); answers the last rowid written. On an AUTOINCREMENT table inside a transaction no other
 * connection writes in, the rows get consecutive rowids ending there.
 */
export function insertRows(db: Database, head: string, width: number, rows: readonly SQLQueryBindings[][], tail = ""): number {
  const group = `(${Array.from({ length: width }, () => "?").join(", ")})`;
  let last = 0;
  for (let from = 0; from < rows.length; from += ROWS_PER_INSERT) {
    const chunk = rows.slice(from, from + ROWS_PER_INSERT);
    const sql = `${head} VALUES ${Array.from({ length: chunk.length }, () => group).join(", ")} ${tail}`;
    last = Number(db.query(sql).run(...chunk.flat()).lastInsertRowid);
  }
  return last;
}
