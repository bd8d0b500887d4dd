/**
 * The shared event log on Postgres under concurrent appends from several replicas (stores): a reader that
 * always reads after the newest id it saw never skips an id that commits late, because appends are
 * serialized (an id only becomes visible after every smaller id). Without that, a reader polling during the
 * race would see id 11 before id 10 commits, move its cursor past 10 and lose it.
 */
import { expect, test } from "bun:test";
import { PostgresStore } from "../../src/store/postgres";
import { describePg, freshSchemas, pgUrl } from "../support/postgres";

describePg("event log on Postgres: several replicas appending at once", () => {
  const schemas = freshSchemas();

  test("a reader following the cursor sees every id exactly once, in order", async () => {
    const schema = schemas.next();
    const replicas = [0, 1, 2, 3].map(() => new PostgresStore({ url: pgUrl(), schema, max: 2 }));
    const reader = new PostgresStore({ url: pgUrl(), schema, max: 1 });
    try {
      await replicas[0]!.migrate();
      const appended: number[] = [];
      let writing = true;
      const writers = replicas.map(async (s, r) => {
        for (let b = 0; b < 40; b++) {
          const batch = Array.from({ length: 1 + ((b + r) % 5) }, (_, i) => ({
            type: "dag_run.created",
            team: "default",
            dag_id: "d",
            run_id: `r${r}-${b}-${i}`,
          }));
          appended.push(...(await s.appendEvents(batch, new Date())));
        }
      });
      const seen: number[] = [];
      const following = (async () => {
        let cursor = 0;
        while (writing || cursor < Math.max(0, ...appended)) {
          for (const row of await reader.readEventsAfter(cursor, 50)) {
            seen.push(row.id);
            cursor = row.id;
          }
        }
      })();
      await Promise.all(writers);
      writing = false;
      await following;
      expect(seen).toEqual([...appended].sort((a, b) => a - b));
    } finally {
      await Promise.all([...replicas, reader].map((s) => s.close()));
    }
  }, 60_000);
});
