/**
 * Postgres only: the driver reads the catalogue's array types (a self-join of pg_type, ~20 ms of Postgres time)
 * before a connection's first statement. Once the store has migrated, the types it read serve every pool, so a
 * restart's or a new leader's fresh connections go straight to their statements, and arrays still go both ways.
 */
import { expect, test } from "bun:test";
import { PostgresStore } from "../../src/store/postgres";
import { query } from "../../src/store/postgres/client";
import { describePg, freshSchemas, pgUrl } from "../support/postgres";
import { runOfBashTasks, T0 } from "./contract-fixtures";

describePg("PostgresStore array types", () => {
  const schemas = freshSchemas();

  test("after migrate, new connections of every pool skip the catalogue read and still send and read arrays", async () => {
    const store = new PostgresStore({ url: pgUrl(), schema: schemas.next(), hotMax: 2 });
    try {
      await store.migrate();
      const statements: string[] = [];
      for (const pool of [store.sql, store.hot, store.inlineEnds])
        pool.options.debug = (_connection: number, text: string) => void statements.push(text);
      // Fresh connections on each pool: a transition batch (arrays in, on the hot pool), reads at once on the
      // shared pool, an array round trip on the ends' connection.
      const snap = await runOfBashTasks(store, "arrays", ["a", "b", "c"]);
      const ids = snap.tis.map((ti) => ti.id);
      const applied = await store.applyTransitions(
        ids.map((id, i) => ({ id, from: ["none"], to: "scheduled", patch: { note: `n${i}` } })),
        T0,
      );
      expect(applied).toEqual([true, true, true]);
      await Promise.all(ids.map((id) => store.getTaskInstanceById(id)));
      const rows = await query<{ ids: number[]; notes: string[] }>(store.inlineEnds, "SELECT $1::bigint[] AS ids, $2::text[] AS notes", [
        ids,
        ['a "quoted" note', "b"],
      ]);
      expect(rows).toEqual([{ ids, notes: ['a "quoted" note', "b"] }]);
      expect((await store.getTaskInstanceById(ids[2]!))!.note).toBe("n2");

      expect(statements.length).toBeGreaterThan(5);
      expect(statements.filter((s) => s.includes("pg_catalog.pg_type"))).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
