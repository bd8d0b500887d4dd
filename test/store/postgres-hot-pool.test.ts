/**
 * Postgres only: a hop's statements (an inline start and end, a woken tick's read, an agent's start, lines and
 * end, a small batch of transitions) run on the store's hot pool, each planned generically from its first
 * execution, never with the five custom plans Postgres makes of a prepared statement by default; the shared
 * pool keeps Postgres's default. One hot connection, so its prepared statements are the ones the hop made; an
 * inline try's end runs on the connection of its own where ends are pipelined (inlineEnds), planned the same way.
 */
import { expect, test } from "bun:test";
import type { TaskTransition } from "../../src/domain";
import { PostgresStore } from "../../src/store/postgres";
import { describePg, freshSchemas, pgUrl } from "../support/postgres";
import { runOfBashTasks, T0 } from "./contract-fixtures";

/** What identifies each hop statement's SQL text. */
const HOP_STATEMENTS = {
  "inline start (two transitions of one row)": /^\s*WITH u AS/,
  "tick read": /^SELECT row\(id, dag_run_id[\s\S]*UNION ALL[\s\S]*FROM pools\)::text$/,
  "agent start or end": /^WITH cur AS/,
  "agent lines": /^WITH live AS/,
  "one transition": /^UPDATE task_instances SET/,
};

describePg("PostgresStore hot pool", () => {
  const schemas = freshSchemas();

  test("a hop's statements run on the hot pool, planned generically from their first run; the shared pool keeps custom plans", async () => {
    const store = new PostgresStore({ url: pgUrl(), schema: schemas.next(), hotMax: 1 });
    try {
      await store.migrate();
      const snap = await runOfBashTasks(store, "hop", ["a", "b"]);
      const [a, b] = snap.tis;
      const start = (id: number, to: "running" | "queued"): TaskTransition[] => [
        { id, from: ["none"], to: "scheduled" },
        { id, from: ["scheduled"], to, patch: { try_number: 1 } },
      ];
      await store.applyTransitions(start(a!.id, "running"), T0);
      const xcomKey = { team: "default", dag_id: "hop", run_id: "r1", task_id: "a", map_index: -1, key: "return_value" };
      const [ended] = await store.finishInlineTries(
        [
          {
            transition: { id: a!.id, from: ["running"], to: "success", try_number: 1, patch: { end_date: T0 } },
            lines: { ti_id: a!.id, try_number: 1, first_seq: 0, lines: [{ timestamp: T0, stream: "stdout", line: "ok" }] },
            xcom: { key: xcomKey, value: { ok: true } },
          },
        ],
        T0,
      );
      expect(ended!.applied).toBe(true);
      await store.loadTickReads([snap.run.id], [snap.run.id]);
      await store.applyTransitions(start(b!.id, "queued"), T0);
      const theTry = { id: b!.id, dag_id: "hop", run_id: "r1", task_id: "b", try_number: 1 };
      expect((await store.startTry({ ...theTry, hostname: "h", pid: 1 }, T0))!.applied).toBe(true);
      expect(await store.appendTryLogs(theTry, 0, [{ timestamp: T0, stream: "stdout", line: "ok" }])).toBe(true);
      expect((await store.finishTry({ ...theTry, to: "success", note: null, final: false }, T0))!.applied).toBe(true);
      await store.applyTransitions([{ id: b!.id, from: ["success"], to: "success", patch: { note: "seen" } }], T0);

      const prepared = await store.hot.unsafe<{ statement: string; generic_plans: number; custom_plans: number }[]>(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements",
      );
      for (const [what, text] of Object.entries(HOP_STATEMENTS)) {
        const mine = prepared.filter((p) => text.test(p.statement));
        expect({ what, prepared: mine.length > 0 }).toEqual({ what, prepared: true });
        for (const p of mine) expect({ what, custom: Number(p.custom_plans) }).toEqual({ what, custom: 0 });
      }
      const ends = await store.inlineEnds.unsafe<{ statement: string; custom_plans: number }[]>(
        "SELECT statement, custom_plans FROM pg_prepared_statements",
      );
      expect(ends.map((p) => ({ end: /xc AS \(INSERT INTO xcom/.test(p.statement), custom: Number(p.custom_plans) }))).toContainEqual({
        end: true,
        custom: 0,
      });
      expect(prepared.some((p) => /xc AS \(INSERT INTO xcom/.test(p.statement))).toBe(false);
      const [shared] = await store.sql.unsafe<{ plan_cache_mode: string }[]>("SHOW plan_cache_mode");
      expect(shared!.plan_cache_mode).toBe("auto");
    } finally {
      await store.close();
    }
  });
});
