/**
 * The Store contract on Postgres, plus what only Postgres can show: two replicas migrating one fresh schema
 * at once, schema isolation, and batches that touch one row twice. The contract shares one schema per file,
 * emptied before each test (see resettableSchema: a migration per test would cost ~90 ms each).
 */
import { describe, expect, test } from "bun:test";
import type { TaskState } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { guardedStore } from "../../src/store";
import { PostgresStore, POSTGRES_MIGRATIONS } from "../../src/store/postgres";
import { recordFields } from "../../src/store/postgres/client";
import { taskInstanceListSql } from "../../src/store/postgres/filter-queries";
import { logLinesInsertSql } from "../../src/store/postgres/logs";
import { STAMP_CHANGE } from "../../src/store/postgres/change-stamp";
import { ACTIVE_RUN_IDS_SQL, CHANGED_RUNS_SQL, CHANGES_SINCE_SQL } from "../../src/store/postgres/runs";
import { runGatesSql } from "../../src/store/postgres/scheduling";
import { roundsOf } from "../../src/store/postgres/task-instances";
import { describePg, freshSchemas, pgUrl, resettableSchema } from "../support/postgres";
import { runStoreContract } from "./contract";
import { queued } from "./contract-agent-tries";
import { newRun, runTask } from "./contract-fixtures";

const T0 = new Date("2026-01-01T00:00:00Z");

describePg("PostgresStore", () => {
  const shared = resettableSchema();
  runStoreContract("postgres", async () => {
    await shared.reset();
    return guardedStore(new PostgresStore({ url: pgUrl(), schema: shared.name, max: 4 }));
  });

  describe("migrations", () => {
    const schemas = freshSchemas();

    test("a fresh schema is created and gets every migration, recorded once", async () => {
      const schema = schemas.next();
      const store = new PostgresStore({ url: pgUrl(), schema });
      try {
        await store.migrate();
        await store.migrate();
        const rows = await store.sql`SELECT version, name FROM schema_migrations ORDER BY version`;
        expect(rows.map((r) => [r.version, r.name])).toEqual(POSTGRES_MIGRATIONS.map((m) => [m.version, m.name]));
        const [where] = await store.sql`SELECT current_schema() AS s`;
        expect(where!.s).toBe(schema);
      } finally {
        await store.close();
      }
    });

    test("two replicas migrating the same fresh schema at once both succeed, and each migration applies once", async () => {
      const schema = schemas.next();
      const a = new PostgresStore({ url: pgUrl(), schema });
      const b = new PostgresStore({ url: pgUrl(), schema });
      try {
        await Promise.all([a.migrate(), b.migrate()]);
        const rows = await a.sql`SELECT version FROM schema_migrations ORDER BY version`;
        expect(rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
        // Both see one working schema.
        const spec = parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] });
        await a.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now: T0 });
        expect((await b.getDag("default", "etl"))!.spec).toEqual(spec);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    test("stores in different schemas of one database do not see each other's data", async () => {
      const a = new PostgresStore({ url: pgUrl(), schema: schemas.next() });
      const b = new PostgresStore({ url: pgUrl(), schema: schemas.next() });
      try {
        await Promise.all([a.migrate(), b.migrate()]);
        await a.putUser({ username: "ada", password_hash: "h", role: "admin" }, T0);
        expect(await b.getUser("ada")).toBeNull();
        expect((await a.getUser("ada"))!.role).toBe("admin");
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    test("upgrading to 0019: lines stored a row each, before or by a replica of the previous release during the rollout, read back with the new ones", async () => {
      const store = new PostgresStore({ url: pgUrl(), schema: schemas.next() });
      try {
        await store.migrate();
        const spec = parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "a", operator: "bash", bash_command: "true" }] });
        const dag = await store.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now: T0 });
        const run = await store.createDagRun(newRun(dag, "r1", { tasks: [runTask("a")] }));
        const id = (await store.loadRunSnapshots([run.id]))[0]!.tis[0]!.id;
        // The tables as 0018 left them, with a try's lines in task_logs.
        await store.sql`DROP TABLE task_log_chunks`;
        await store.sql`DELETE FROM schema_migrations WHERE version = 19`;
        const second = new Date(T0.getTime() + 1);
        await store.sql`INSERT INTO task_logs VALUES (${id}, 1, 0, ${T0}, 'stdout', 'hello'), (${id}, 1, 1, ${second}, 'stderr', ${'say "hi", \\ and ☃'})`;
        await store.migrate();
        await store.appendLogs(id, 1, 2, [{ timestamp: T0, stream: "stdout", line: "after" }]);
        // A replica still on the previous release writes its lines as before; task_logs stays for it.
        await store.sql`INSERT INTO task_logs VALUES (${id}, 1, 3, ${T0}, 'stdout', 'from an old replica')`;
        await store.appendLogs(id, 1, 4, [{ timestamp: T0, stream: "stdout", line: "new again" }]);
        expect(await store.readLogs(id, 1)).toEqual([
          { seq: 0, timestamp: T0, stream: "stdout", line: "hello" },
          { seq: 1, timestamp: second, stream: "stderr", line: 'say "hi", \\ and ☃' },
          { seq: 2, timestamp: T0, stream: "stdout", line: "after" },
          { seq: 3, timestamp: T0, stream: "stdout", line: "from an old replica" },
          { seq: 4, timestamp: T0, stream: "stdout", line: "new again" },
        ]);
        expect((await store.readLogs(id, 1, 1, 2)).map((l) => l.seq)).toEqual([2, 3]);
      } finally {
        await store.close();
      }
    });

    test("upgrading to 0020: events stored a row each, before or by a replica of the previous release during the rollout, read back in id order with the new ones", async () => {
      const store = new PostgresStore({ url: pgUrl(), schema: schemas.next() });
      const old = (runId: string) => JSON.stringify({ type: "dag_run.created", team: "default", dag_id: "etl", run_id: runId });
      try {
        await store.migrate();
        // The tables as 0019 left them, with two events in event_log.
        await store.sql`DROP TABLE event_log_batches`;
        await store.sql`DELETE FROM schema_migrations WHERE version = 20`;
        await store.sql`INSERT INTO event_log (team, event, created_at) VALUES ('default', ${old("o1")}, ${T0}), ('default', ${old("o2")}, ${T0})`;
        await store.migrate();
        const [n1, n2] = await store.appendEvents(
          [
            { type: "dag_run.created", team: "default", run_id: "n1" },
            { type: "dag_run.created", team: "default", run_id: "n2" },
          ],
          T0,
        );
        // A replica still on the previous release appends as before: its id comes after the batch's.
        await store.sql`INSERT INTO event_log (team, event, created_at) VALUES ('default', ${old("o3")}, ${T0})`;
        const [n3] = await store.appendEvents([{ type: "dag_run.created", team: "default", run_id: "n3" }], T0);
        const read = await store.readEventsAfter(0, 100);
        expect(read.map((r) => r.event.run_id)).toEqual(["o1", "o2", "n1", "n2", "o3", "n3"]);
        const ids = read.map((r) => r.id);
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
        expect(new Set(ids).size).toBe(6);
        expect([ids[2], ids[3], ids[5]]).toEqual([n1, n2, n3]);
        expect((await store.readEventsAfter(ids[1]!, 2)).map((r) => r.event.run_id)).toEqual(["n1", "n2"]);
        expect((await store.readEventsAfter(ids[3]!, 1)).map((r) => r.event.run_id)).toEqual(["o3"]);
        expect(await store.lastEventId()).toBe(n3!);
        // Retention counts both tables' events.
        expect(await store.pruneEvents(T0, 2)).toBe(4);
        expect((await store.readEventsAfter(0, 100)).map((r) => r.event.run_id)).toEqual(["o3", "n3"]);
      } finally {
        await store.close();
      }
    });

    test("upgrading to 0009: task instances waiting at the upgrade get their wait_reason from the note", async () => {
      const store = new PostgresStore({ url: pgUrl(), schema: schemas.next() });
      try {
        await store.migrate();
        const ids = ["past", "pool", "missing", "other"];
        const spec = parseDagSpec({ dag_id: "etl", tasks: ids.map((task_id) => ({ task_id, operator: "bash", bash_command: "true" })) });
        const dag = await store.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now: T0 });
        await store.createDagRun(newRun(dag, "r1", { tasks: ids.map((id) => runTask(id)) }));
        // The rows as a 0008 scheduler left them: the reason only in the note.
        await store.sql`ALTER TABLE task_instances DROP COLUMN wait_reason`;
        await store.sql`DELETE FROM schema_migrations WHERE version = 9`;
        const notes: [string, string, string][] = [
          [
            "past",
            "none",
            "depends_on_past: waiting for past in the previous run jan (failed) to succeed or be skipped; clear or mark that task instance to let this run go on",
          ],
          ["pool", "scheduled", "waiting for a slot in pool gpu (0 of 2 open)"],
          ["missing", "scheduled", "pool gpu does not exist; create it with POST /api/v2/pools or set the task's pool to an existing one"],
          ["other", "scheduled", "dispatch attempt 1/3 failed: spawn ENOENT"],
        ];
        for (const [task_id, state, note] of notes)
          await store.sql`UPDATE task_instances SET state = ${state}, note = ${note} WHERE task_id = ${task_id}`;
        await store.migrate();
        const rows = await store.sql`SELECT task_id, wait_reason FROM task_instances ORDER BY task_id`;
        expect(rows.map((r) => [r.task_id, r.wait_reason])).toEqual([
          ["missing", "pool_missing"],
          ["other", null],
          ["past", "depends_on_past"],
          ["pool", "pool_full"],
        ]);
      } finally {
        await store.close();
      }
    });
  });

  describe("query plans", () => {
    const schemas = freshSchemas();
    /** Runs `fn` on a store in a schema of its own, closed after. */
    async function withFreshStore(fn: (store: PostgresStore) => Promise<void>): Promise<void> {
      const store = new PostgresStore({ url: pgUrl(), schema: schemas.next() });
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    }
    /** Migrates `store` and creates DAG "wide" of `n` bash tasks with a run of it per id in `runIds`. */
    async function wideRuns(store: PostgresStore, n: number, runIds: string[]) {
      await store.migrate();
      const ids = Array.from({ length: n }, (_, i) => `t${i}`);
      const spec = parseDagSpec({ dag_id: "wide", tasks: ids.map((task_id) => ({ task_id, operator: "bash", bash_command: "true" })) });
      const dag = await store.upsertDag("default", { spec, fileloc: "/dags/wide.json", pausedOnCreate: false, now: T0 });
      const runs = [];
      for (const runId of runIds) runs.push(await store.createDagRun(newRun(dag, runId, { tasks: ids.map((id) => runTask(id)) })));
      return runs;
    }
    /** Rows an EXPLAIN (ANALYZE, FORMAT JSON) row's plan met in `table`: kept, or read and filtered out. */
    const rowsMetIn = (row: Record<string, unknown>, table: string): number => {
      let met = 0;
      const walk = (node: Record<string, unknown>) => {
        if (node["Relation Name"] === table)
          met += (Number(node["Actual Rows"] ?? 0) + Number(node["Rows Removed by Filter"] ?? 0)) * Number(node["Actual Loops"] ?? 1);
        for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
      };
      walk((row["QUERY PLAN"] as { Plan: Record<string, unknown> }[])[0]!.Plan);
      return met;
    };
    /** Stamps task instance `id` as a write of its own transaction does. */
    const stamp = (store: PostgresStore, id: number) =>
      store.sql.unsafe("UPDATE task_instances SET change_xid = pg_current_xact_id() WHERE id = $1", [id]);
    /**
     * Runs `fn` while another session holds a transaction id open (as a session idle in a transaction after a write does: every
     * later snapshot's xmin stays at it), after 100 changes of `tis` committed since it began.
     */
    async function withTransactionLeftOpen(store: PostgresStore, tis: readonly { id: number }[], fn: () => Promise<void>) {
      const open = await store.sql.reserve();
      try {
        await open`BEGIN`;
        await open`SELECT pg_current_xact_id()`;
        for (const ti of tis.slice(1, 101)) await stamp(store, ti.id);
        await fn();
      } finally {
        await open`ROLLBACK`;
        open.release();
      }
    }
    /** Postgres's plan for `sql` with `params`, as EXPLAIN's lines joined. */
    const planOf = async (store: PostgresStore, sql: string, params: unknown[]) =>
      (await store.sql.unsafe(`EXPLAIN ${sql}`, params as never[])).map((r) => r["QUERY PLAN"]).join("\n");
    /** Every statement `pools` send from now on, with its parameters, in the order sent. */
    const recordStatements = (...pools: PostgresStore["sql"][]) => {
      const sent: [string, unknown[]][] = [];
      for (const pool of pools)
        pool.options.debug = (_connection: number, text: string, params: unknown[]) => void sent.push([text, [...params]]);
      return sent;
    };
    const NO_SEQ_SCANS = "SET LOCAL enable_seqscan = off";
    /**
     * The plan of `statement` (one of `sent`) as a batch by ids runs it: the setting went first on the
     * transaction's connection, so the statement is planned under it.
     */
    const planAfterNoSeqScans = async (store: PostgresStore, sent: [string, unknown[]][], statement: [string, unknown[]]) => {
      const texts = sent.map(([text]) => text);
      expect(texts.indexOf(NO_SEQ_SCANS)).toBeGreaterThan(-1);
      expect(texts.indexOf(NO_SEQ_SCANS)).toBeLessThan(texts.indexOf(statement[0]));
      return (await store.sql.begin(async (tx) => {
        await tx.unsafe(NO_SEQ_SCANS);
        return (await tx.unsafe(`EXPLAIN ${statement[0]}`, statement[1] as never[])).map((r) => r["QUERY PLAN"]).join("\n");
      })) as string;
    };

    test("a sweep's read of changed runs reads the index on a table Postgres has no statistics for yet", async () => {
      await withFreshStore(async (store) => {
        await wideRuns(store, 5000, ["r1"]);
        // As right after a burst of writes: autovacuum has not analyzed the table yet.
        const [stats] =
          await store.sql`SELECT count(*)::int AS n FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'task_instances'`;
        expect(stats!.n).toBe(0);
        const [row] = await store.sql`SELECT pg_current_snapshot()::text AS snapshot`;
        const plan = await planOf(store, CHANGED_RUNS_SQL, [row!.snapshot]);
        expect(plan).toContain("task_instances_change");
        expect(plan).not.toContain("Seq Scan");
        // The plan a pooled connection keeps after its first executions (generic: the cursor unknown) reads it too.
        const generic = (await store.sql.begin(async (tx) => {
          await tx.unsafe("SET LOCAL plan_cache_mode = force_generic_plan");
          await tx.unsafe(`PREPARE changed_runs(text) AS ${CHANGED_RUNS_SQL}`);
          expect(row!.snapshot).toMatch(/^\d+:\d+:[\d,]*$/); // a snapshot's text, safe to write into the statement
          return (await tx.unsafe(`EXPLAIN EXECUTE changed_runs('${row!.snapshot}')`)).map((r) => r["QUERY PLAN"]).join("\n");
        })) as string;
        expect(generic).toContain("task_instances_change");
        expect(generic).not.toContain("Seq Scan");
      });
    });

    test("a sweep's changed runs: a write in progress at the cursor is found once it commits", async () => {
      await withFreshStore(async (store) => {
        const [run] = await wideRuns(store, 3, ["r1"]);
        const [ti] = (await store.loadRunSnapshots([run!.id]))[0]!.tis;
        const first = await store.listRunIdsChangedAfter(null);
        // Another session writes and has not committed when the sweep takes its cursor.
        const other = await store.sql.reserve();
        try {
          await other`BEGIN`;
          await other.unsafe("UPDATE task_instances SET note = 'late', change_xid = pg_current_xact_id() WHERE id = $1", [ti!.id]);
          // A later transaction commits first, so the cursor lists the open one as in progress below its xmax.
          await store.sql`SELECT pg_current_xact_id()`;
          const during = await store.listRunIdsChangedAfter(first.cursor);
          expect(during.cursor).toMatch(/^\d+:\d+:\d+/);
          expect(during.runIds).toEqual([]);
          await other`COMMIT`;
          expect((await store.listRunIdsChangedAfter(during.cursor)).runIds).toEqual([run!.id]);
        } finally {
          other.release();
        }
      });
    });

    test("a sweep's changed runs: a transaction left open does not make each read go back to where it began", async () => {
      await withFreshStore(async (store) => {
        const runs = await wideRuns(store, 2500, ["r1", "r2"]);
        const tis = (await store.loadRunSnapshots(runs.map((r) => r.id))).flatMap((s) => s.tis);
        await withTransactionLeftOpen(store, tis, async () => {
          const { cursor } = await store.listRunIdsChangedAfter(null);
          await stamp(store, tis[0]!.id);
          const [plan] = await store.sql.unsafe(`EXPLAIN (ANALYZE, FORMAT JSON) ${CHANGED_RUNS_SQL}`, [cursor]);
          // Rows the read met in task_instances (kept or filtered out): the one change, not the 100 before it.
          expect(rowsMetIn(plan!, "task_instances")).toBe(1);
          expect((await store.listRunIdsChangedAfter(cursor)).runIds).toEqual([runs[0]!.id]);
        });
      });
    });

    test("a run's changes from its cursor: a write in progress at the cursor is read once it commits", async () => {
      await withFreshStore(async (store) => {
        const [run] = await wideRuns(store, 3, ["r1"]);
        const [ti] = (await store.loadRunSnapshots([run!.id]))[0]!.tis;
        const since = (cursor: string) => new Map([[run!.id, cursor]]);
        const [first] = await store.loadRunChanges([run!.id], new Map());
        const other = await store.sql.reserve();
        try {
          await other`BEGIN`;
          await other.unsafe("UPDATE task_instances SET state = 'scheduled', change_xid = pg_current_xact_id() WHERE id = $1", [ti!.id]);
          await store.sql`SELECT pg_current_xact_id()`; // commits after it began: the cursor lists it in progress
          const [during] = await store.loadRunChanges([run!.id], new Map(), since(first!.cursor));
          expect(during!.tis).toEqual([]);
          await other`COMMIT`;
          const [after] = await store.loadRunChanges([run!.id], new Map(), since(during!.cursor));
          expect(after!.tis.map((t) => [t.id, t.state])).toEqual([[ti!.id, "scheduled"]]);
        } finally {
          other.release();
        }
      });
    });

    test("a run's changes from its cursor: a transaction left open does not make each read go back to where it began", async () => {
      await withFreshStore(async (store) => {
        const [run] = await wideRuns(store, 2500, ["r1"]);
        const tis = (await store.loadRunSnapshots([run!.id]))[0]!.tis;
        await withTransactionLeftOpen(store, tis, async () => {
          const [read] = await store.loadRunChanges([run!.id], new Map());
          await stamp(store, tis[0]!.id);
          const [plan] = await store.sql.unsafe(`EXPLAIN (ANALYZE, FORMAT JSON) ${CHANGES_SINCE_SQL}`, [`{${run!.id}}`, [read!.cursor]]);
          expect(rowsMetIn(plan!, "task_instances")).toBe(1);
          const [next] = await store.loadRunChanges([run!.id], new Map(), new Map([[run!.id, read!.cursor]]));
          expect(next!.tis.map((t) => t.id)).toEqual([tis[0]!.id]);
        });
      });
    });

    test("a DAG's count of running runs (its max_active_runs gate) and the sweep's list of active runs read the active ones only, not the history", async () => {
      await withFreshStore(async (store) => {
        await store.migrate();
        const spec = parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] });
        const dag = await store.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now: T0 });
        const run = await store.createDagRun(newRun(dag, "r1", { tasks: [runTask("t")] }));
        // A long history: 20,000 ended runs of the DAG, as a DAG scheduled every minute has after two weeks.
        await store.sql.unsafe(
          `INSERT INTO dag_runs (team, dag_id, run_id, run_type, state, conf, version_id, queued_at)
           SELECT team, dag_id, 'old' || g, run_type, 'success', conf, version_id, queued_at FROM dag_runs, generate_series(1, 20000) g
           WHERE id = $1`,
          [run.id],
        );
        await store.sql.unsafe("ANALYZE dag_runs");
        // The gate's count of running runs.
        expect(await planOf(store, runGatesSql("$1::bigint[]", "$2::text[]", "$3::text[]"), [[run.id], ["default"], ["etl"]])).toContain(
          "dag_runs_running",
        );
        // The sweep's list of active runs, through the state index's entries for queued and running runs.
        const listed = await planOf(store, ACTIVE_RUN_IDS_SQL, []);
        expect(listed).toContain("dag_runs_state");
        expect(listed).not.toContain("Seq Scan");
        expect(await store.listActiveRunIds()).toEqual([run.id]);
      });
    });

    test("a large batch of run state changes reaches its runs by the primary key, not by hashing every run", async () => {
      // With a few hundred ids or more, Postgres hashed every run of the install (its whole history) to update them.
      await withFreshStore(async (store) => {
        await store.migrate();
        const spec = parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] });
        const dag = await store.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now: T0 });
        const run = await store.createDagRun(newRun(dag, "r0", { tasks: [runTask("t")] }));
        // 5,000 ended runs of history and 200 queued runs to start.
        const copy = (state: string, prefix: string, n: number) =>
          store.sql.unsafe(
            `INSERT INTO dag_runs (team, dag_id, run_id, run_type, state, conf, version_id, queued_at)
             SELECT team, dag_id, '${prefix}' || g, run_type, '${state}', conf, version_id, queued_at FROM dag_runs, generate_series(1, ${n}) g
             WHERE id = $1`,
            [run.id],
          );
        await copy("success", "old", 5000);
        await copy("queued", "new", 200);
        const ids = (await store.sql`SELECT id FROM dag_runs WHERE run_id LIKE 'new%' ORDER BY id`).map((r) => Number(r.id));
        const sent = recordStatements(store.sql);
        const applied = await store.setDagRunStates(
          ids.map((id) => ({ id, from: ["queued"], to: "running" })),
          T0,
        );
        expect(applied).toEqual(ids.map(() => true));
        const plan = await planAfterNoSeqScans(store, sent, sent.find(([text]) => /UPDATE dag_runs/.test(text))!);
        expect(plan).toContain("dag_runs_pkey");
        expect(plan).not.toContain("Seq Scan on dag_runs");
        const [{ n }] = (await store.sql`SELECT count(*)::int AS n FROM dag_runs WHERE state = 'running'`) as unknown as [{ n: number }];
        expect(n).toBe(200);
        // With a webhook wanting run events the batch joins the outbox's transaction: the same changes and a row each.
        await store.createWebhook(
          "default",
          { url: "http://127.0.0.1:9/hook", event_types: ["dag_run.finished"], secret: "0123456789abcdef" },
          T0,
        );
        const ended = await store.setDagRunStates(
          ids.map((id) => ({ id, from: ["running"], to: "success" })),
          T0,
        );
        expect(ended).toEqual(ids.map(() => true));
        const [{ rows }] = (await store.sql`SELECT count(*)::int AS rows FROM webhook_deliveries`) as unknown as [{ rows: number }];
        expect(rows).toBe(200);
      });
    });

    test("a batch of log lines checks each line's task instance by its key, not by joining every task instance", async () => {
      await withFreshStore(async (store) => {
        await wideRuns(store, 2000, ["r1"]);
        await store.sql.unsafe("ANALYZE task_instances");
        // The hot connections plan their statements generically (postgres-store.ts): the plan for any batch.
        const plan = (await store.sql.begin(async (tx) => {
          await tx.unsafe("SET LOCAL plan_cache_mode = force_generic_plan");
          await tx.unsafe(`PREPARE lines_plan(text) AS ${logLinesInsertSql((k) => `$${k + 1}`)}`);
          return (await tx.unsafe("EXPLAIN EXECUTE lines_plan('[]')")).map((r) => r["QUERY PLAN"]).join("\n");
        })) as string;
        expect(plan).toMatch(/Index (Only )?Scan using task_instances_pkey/);
        expect(plan).not.toContain("Seq Scan on task_instances");
        expect(plan).not.toContain("Hash");
      });
    });

    test("a run's page of task instances reads that run's rows, not every task instance of the team", async () => {
      await withFreshStore(async (store) => {
        const [r1] = await wideRuns(store, 500, ["r1", "r2", "r3"]);
        // History: 20,000 more task instances of the team (r1's, as mapped instances), older than r2's by id.
        await store.sql.unsafe(
          `INSERT INTO task_instances (dag_run_id, team, dag_id, run_id, task_id, map_index, state, operator, pool, updated_at)
           SELECT dag_run_id, team, dag_id, run_id, task_id, g, 'success', operator, pool, updated_at
           FROM task_instances, generate_series(0, 39) g WHERE dag_run_id = $1`,
          [r1!.id],
        );
        await store.sql.unsafe("ANALYZE dag_runs, task_instances");
        const filter = { dag_id: "wide", run_id: "r2", limit: 50, offset: 0 };
        const page = await store.findTaskInstances("default", filter);
        expect(page.total).toBe(500);
        expect(new Set(page.items.map((ti) => ti.run_id))).toEqual(new Set(["r2"]));
        // Both statements (the page and its total) find the run's rows through the run's key: task_instances has
        // no index of its own on (dag_id, run_id), and a scan by team reads all 21,500 rows for every page.
        for (const [sql, params] of Object.values(taskInstanceListSql("default", filter))) {
          const plan = await planOf(store, sql, params);
          expect(plan).toMatch(/Index Cond: \(dag_run_id = /);
          expect(plan).not.toContain("Seq Scan on task_instances");
          expect(plan).not.toContain("task_instances_pool_state");
        }
      });
    });

    test("a try's writes by id reach their row by the primary key on a table Postgres has no statistics for", async () => {
      // On a fresh table the planner tied `id = $1` with the state index (a heartbeat) or with the index of a DAG's
      // live task instances (an agent's start and end), and a hot connection kept that plan while the table grew.
      await withFreshStore(async (store) => {
        await store.migrate();
        const { id, start, finish } = await queued(store);
        const sent = recordStatements(store.sql, store.hot);
        const t = start("a");
        expect((await store.startTry(t, T0))!.applied).toBe(true);
        expect(await store.heartbeat(id("a"), 1, T0)).toBe(true);
        const key = { team: "default", dag_id: "etl", run_id: "r1", task_id: "a", map_index: -1, key: "k" };
        expect(await store.pushTryXCom(t, key, 1, T0)).toBe(true);
        expect(await store.appendTryLogs(t, 0, [{ timestamp: T0, stream: "stdout", line: "hi" }])).toBe(true);
        expect((await store.finishTry(finish("a"), T0))!.applied).toBe(true);
        const byId = sent.filter(([text]) => /task_instances/.test(text) && /\bid = \$/.test(text));
        expect(byId.length).toBeGreaterThanOrEqual(5);
        for (const [text, params] of byId) {
          const plan = await planOf(store, text, params);
          expect(plan).toContain("task_instances_pkey");
          expect(plan).not.toContain("task_instances_pool_state");
          expect(plan).not.toContain("task_instances_active");
        }
      });
    });

    test("a group of equal schedules reaches its rows by the primary key, not by every unscheduled row", async () => {
      // On a fresh table the planner took `state = 'none'` for a few rows and hashed every task instance not yet
      // scheduled (the whole table at a first sweep) to update a chunk of them.
      await withFreshStore(async (store) => {
        const [run] = await wideRuns(store, 5000, ["r1"]);
        const tis = (await store.loadRunSnapshots([run!.id]))[0]!.tis.slice(0, 200);
        const sent = recordStatements(store.sql);
        const note = "waiting for a slot in default_pool";
        const applied = await store.applyTransitions(
          tis.map((ti) => ({ id: ti.id, from: ["none"], to: "scheduled", patch: { note } })),
          T0,
        );
        expect(applied).toEqual(tis.map(() => true));
        const grouped = sent.filter(([text]) => /UPDATE task_instances/.test(text));
        expect(grouped).toHaveLength(1);
        const plan = await planAfterNoSeqScans(store, sent, grouped[0]!);
        expect(plan).toMatch(/Index Cond: \(id = ANY/);
        expect(plan).not.toContain("task_instances_pool_state");
        expect(plan).not.toContain("Seq Scan");
        const after = (await store.loadRunSnapshots([run!.id]))[0]!.tis;
        expect(after.filter((ti) => ti.state === "scheduled").map((ti) => ti.id)).toEqual(tis.map((ti) => ti.id));
        expect(after.filter((ti) => ti.state === "none")).toHaveLength(4800);
      });
    });

    test("the other batches by ids (notes, reaps, sensors' waits and checks, an operator's marks, unlike transitions) reach their rows by the primary key", async () => {
      // On a table Postgres has no statistics for yet, each of these planned a few hundred ids or more as a scan
      // of every task instance (1,000 among 100,000: 21 ms, linear in the install's history).
      await withFreshStore(async (store) => {
        const [run] = await wideRuns(store, 5000, ["r1"]);
        const tis = (await store.loadRunSnapshots([run!.id]))[0]!.tis;
        const ids = (k: number) => tis.slice(k * 200, k * 200 + 200).map((ti) => ti.id);
        const [notes, reaps, waits, checks, marks, unlike] = [ids(0), ids(1), ids(2), ids(3), ids(4), ids(5)];
        const walk = async (batch: number[], states: TaskState[]) => {
          for (let i = 1; i < states.length; i++)
            expect(
              await store.applyTransitions(
                batch.map((id) => ({ id, from: [states[i - 1]!], to: states[i]! })),
                T0,
              ),
            ).toEqual(batch.map(() => true));
        };
        await walk([...notes, ...waits, ...checks, ...unlike], ["none", "scheduled"]);
        await walk([...reaps, ...marks], ["none", "scheduled", "queued", "running"]);
        // Sensors waiting for their next check: started as sensors, then deferred.
        expect(
          await store.prepareSensorWaits(
            checks.map((id) => ({ id, try_number: 1, note: "first check now" })),
            T0,
          ),
        ).toEqual(checks.map(() => true));
        await walk(checks, ["scheduled", "deferred"]);
        const writes: [string, () => Promise<boolean[]>][] = [
          ["notes", () => store.setTaskInstanceNotes(notes.map((id) => ({ id, state: "scheduled", note: "waiting", wait_reason: null })))],
          [
            "reaps",
            () =>
              store.reapTaskInstances(
                reaps.map((id) => ({ id, try_number: 1, from: "running", observed_at: null, to: "failed", note: "lost" })),
                T0,
              ),
          ],
          [
            "sensor waits",
            () =>
              store.prepareSensorWaits(
                waits.map((id) => ({ id, try_number: 1, note: "first check now" })),
                T0,
              ),
          ],
          [
            "sensor checks",
            () => store.recordSensorChecks(checks.map((id) => ({ id, try_number: 1, next_check_at: T0, note: "next check soon" }))),
          ],
          [
            "marks",
            async () =>
              (
                await store.applyOperatorChange(
                  { transitions: marks.map((id) => ({ id, from: ["running"], to: "failed", patch: { end_date: T0 } })) },
                  T0,
                )
              ).transitions,
          ],
          // A note each: no two alike, so no group takes them (a sweep's groups were fixed before).
          [
            "unlike transitions",
            () =>
              store.applyTransitions(
                unlike.map((id, i) => ({ id, from: ["scheduled"], to: "queued", patch: { note: `n${i}` } })),
                T0,
              ),
          ],
        ];
        for (const [name, write] of writes) {
          const sent = recordStatements(store.sql, store.hot);
          expect({ name, applied: (await write()).filter(Boolean).length }).toEqual({ name, applied: 200 });
          const update = sent.filter(([text]) => /UPDATE task_instances/.test(text)).at(-1)!;
          const plan = await planAfterNoSeqScans(store, sent, update);
          expect({
            name,
            byKey: /Index Cond: \(id = ANY/.test(plan),
            scans: plan.match(/Seq Scan on task_instances|task_instances_pool_state/g),
          }).toEqual({
            name,
            byKey: true,
            scans: null,
          });
        }
        // A few rows stay one statement, with no transaction or setting around it.
        const sent = recordStatements(store.sql, store.hot);
        await store.setTaskInstanceNotes(notes.slice(0, 10).map((id) => ({ id, state: "scheduled", note: "still waiting" })));
        expect(sent.map(([text]) => text.trim().split(/\s/)[0])).toEqual(["UPDATE"]);
        const after = (await store.loadRunSnapshots([run!.id]))[0]!.tis;
        const stateOf = new Map(after.map((ti) => [ti.id, ti.state]));
        expect(new Set(reaps.map((id) => stateOf.get(id)))).toEqual(new Set(["failed"]));
        expect(new Set(marks.map((id) => stateOf.get(id)))).toEqual(new Set(["failed"]));
        expect(new Set(unlike.map((id) => stateOf.get(id)))).toEqual(new Set(["queued"]));
        expect(after.filter((ti) => ti.state === "none")).toHaveLength(3800);
      });
    });

    test("the scheduler's waiting notes skip a row another transaction is changing, a user's note waits for it", async () => {
      // Waiting for such a row deadlocked with an inline task's end that starts a waiting task in its slot (the end's
      // row, then the successor's, against the notes' successor row, then the end's row): a fan-out stood still for
      // Postgres's deadlock_timeout (1 s) while every other slot's end queued behind the notes' locks.
      await withFreshStore(async (store) => {
        const [run] = await wideRuns(store, 2, ["r1"]);
        const [a, b] = (await store.loadRunSnapshots([run!.id]))[0]!.tis;
        await store.applyTransitions(
          [a!, b!].map((ti) => ({ id: ti.id, from: ["none"], to: "scheduled" })),
          T0,
        );
        const other = await store.sql.reserve();
        try {
          await other`BEGIN`;
          await other.unsafe("UPDATE task_instances SET note = NULL WHERE id = $1", [b!.id]);
          const notes = store.setTaskInstanceNotes(
            [a!, b!].map((ti) => ({
              id: ti.id,
              state: "scheduled",
              note: "all 1 slots of pool default_pool are taken",
              wait_reason: "pool_full",
            })),
          );
          expect(await Promise.race([notes, Bun.sleep(5_000).then(() => "waited for the other transaction")])).toEqual([true, false]);
          const user = store.setTaskInstanceNotes([{ id: b!.id, state: "scheduled", note: "looked at by ops" }]);
          expect(await Promise.race([user.then(() => "written"), Bun.sleep(200).then(() => "waiting")])).toBe("waiting");
          await other`COMMIT`;
          expect(await user).toEqual([true]);
        } finally {
          await other`ROLLBACK`;
          other.release();
        }
        const after = (await store.loadRunSnapshots([run!.id]))[0]!.tis;
        expect(after.map((ti) => [ti.task_id, ti.note, ti.wait_reason])).toEqual([
          ["t0", "all 1 slots of pool default_pool are taken", "pool_full"],
          ["t1", "looked at by ops", null],
        ]);
      });
    });

    test("a run's changes carry the run's columns once, not on every changed task instance", async () => {
      // A fan-out's scheduler reads thousands of changed rows a second; the run's columns repeated on each (its
      // dates and conf among them) were about half of what the server decoded per row.
      await withFreshStore(async (store) => {
        const [run] = await wideRuns(store, 500, ["r1"]);
        const [first] = await store.loadRunChanges([run!.id], new Map(), new Map());
        const moved = (await store.loadRunSnapshots([run!.id]))[0]!.tis.slice(0, 300);
        await store.applyTransitions(
          moved.map((ti) => ({ id: ti.id, from: ["none"], to: "scheduled" })),
          T0,
        );
        const sent = recordStatements(store.sql, store.hot);
        const [changes] = await store.loadRunChanges([run!.id], new Map(), new Map([[run!.id, first!.cursor!]]));
        expect(changes!.run).toMatchObject({ id: run!.id, run_id: "r1", dag_id: "wide", state: "queued" });
        expect(changes!.tis.map((ti) => [ti.id, ti.state])).toEqual(moved.map((ti) => [ti.id, "scheduled"]));
        const [text, params] = sent.find(([t]) => /change_cursor/.test(t))!;
        const rows = await store.sql.unsafe(text, params as never[]);
        expect(rows).toHaveLength(301);
        expect(rows.filter((r) => r.r_run_id !== null)).toHaveLength(1);
      });
    });
  });

  describe("races between replicas", () => {
    const schemas = freshSchemas();

    test("many replicas queueing the same task instance at once: exactly one wins", async () => {
      const schema = schemas.next();
      const stores = [0, 1, 2, 3].map(() => new PostgresStore({ url: pgUrl(), schema, max: 3 }));
      try {
        await stores[0]!.migrate();
        const spec = parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] });
        const dag = await stores[0]!.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now: T0 });
        const run = await stores[0]!.createDagRun(newRun(dag, "r", { logical_date: T0 }));
        const ti = (await stores[0]!.getTaskInstance("default", "etl", run.run_id, "t"))!;
        await stores[0]!.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], T0);
        const attempts = stores.flatMap((s, i) =>
          [0, 1, 2].map((j) =>
            s.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "queued", patch: { executor: `replica-${i}-${j}` } }], T0),
          ),
        );
        const wins = (await Promise.all(attempts)).filter(([applied]) => applied);
        expect(wins).toHaveLength(1);
        expect((await stores[1]!.getTaskInstanceById(ti.id))!.state).toBe("queued");
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    test("many replicas starting the same task instance at once (none → scheduled → running in one batch): exactly one starts it", async () => {
      const schema = schemas.next();
      const stores = [0, 1, 2, 3].map(() => new PostgresStore({ url: pgUrl(), schema, max: 3 }));
      try {
        await stores[0]!.migrate();
        const spec = parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] });
        const dag = await stores[0]!.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now: T0 });
        const run = await stores[0]!.createDagRun(newRun(dag, "r", { logical_date: T0 }));
        const ti = (await stores[0]!.getTaskInstance("default", "etl", run.run_id, "t"))!;
        const attempts = stores.flatMap((s, i) =>
          [0, 1, 2].map((j) =>
            s.applyTransitions(
              [
                { id: ti.id, from: ["none"], to: "scheduled", try_number: 1 },
                { id: ti.id, from: ["scheduled"], to: "running", try_number: 1, patch: { hostname: `replica-${i}-${j}` } },
              ],
              T0,
            ),
          ),
        );
        const answers = await Promise.all(attempts);
        expect(answers.filter(([a, b]) => a && b)).toHaveLength(1);
        expect(answers.filter(([a, b]) => a || b)).toHaveLength(1);
        const winner = answers.findIndex(([a]) => a);
        const started = (await stores[1]!.getTaskInstanceById(ti.id))!;
        expect([started.state, started.hostname]).toEqual(["running", `replica-${Math.floor(winner / 3)}-${winner % 3}`]);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  });

  describe("a run's changes from a cursor, with writes in flight", () => {
    const schemas = freshSchemas();

    test("a write that committed after a read, though it began before a write that read saw, is in the next read", async () => {
      const schema = schemas.next();
      const store = new PostgresStore({ url: pgUrl(), schema, max: 4 });
      try {
        await store.migrate();
        const tasks = ["a", "b"].map((task_id) => ({ task_id, operator: "bash", bash_command: "true" }));
        const dag = await store.upsertDag("default", {
          spec: parseDagSpec({ dag_id: "etl", tasks }),
          fileloc: "/dags/etl.json",
          pausedOnCreate: false,
          now: T0,
        });
        const run = await store.createDagRun(newRun(dag, "r", { logical_date: T0, tasks: [runTask("a"), runTask("b")] }));
        const [snap] = await store.loadRunSnapshots([run.id]);
        const [a, b] = snap!.tis;
        const [start] = await store.loadRunChanges([run.id], new Map(snap!.tis.map((t) => [t.id, t])));
        const since = (cursor: string) => new Map([[run.id, cursor]]);
        // `a` is written first (the older transaction) and commits last; `b` commits in between and is read.
        let commitA = () => {};
        const heldOpen = new Promise<void>((r) => (commitA = r));
        let written = () => {};
        const aWritten = new Promise<void>((r) => (written = r));
        const txA = store.sql.begin(async (tx) => {
          // Stamped as every store write stamps (change-stamp.ts).
          await tx.unsafe(`UPDATE task_instances SET state = 'scheduled', updated_at = now(), ${STAMP_CHANGE} WHERE id = $1`, [a!.id]);
          written();
          await heldOpen;
        });
        await aWritten;
        await store.applyTransitions([{ id: b!.id, from: ["none"], to: "scheduled" }], T0);
        const [between] = await store.loadRunChanges([run.id], new Map(), since(start!.cursor));
        expect(between!.tis.map((t) => [t.task_id, t.state])).toEqual([["b", "scheduled"]]);
        commitA();
        await txA;
        const [after] = await store.loadRunChanges([run.id], new Map(), since(between!.cursor));
        expect(after!.tis.map((t) => [t.task_id, t.state])).toEqual([["a", "scheduled"]]);
      } finally {
        await store.close();
      }
    });
  });

  test("recordFields reads back every field of Postgres's record output, quoted or not, NULL apart from empty", async () => {
    const store = new PostgresStore({ url: pgUrl(), schema: "public", max: 1 });
    try {
      const odd = ["plain", "", " ", "a,b", '"', '""x"', "\\", '\\"', "(x)", "é ü", "\t\n\u001f", "NULL", null, "x"];
      for (const values of [odd, ["1", "abc", null], [null], [""], [null, null]]) {
        const list = values.map((_, i) => `$${i + 1}::text`).join(", ");
        const [row] = await store.sql.unsafe(`SELECT row(${list})::text AS t`, values);
        expect(recordFields(row!.t as string)).toEqual(values);
      }
    } finally {
      await store.close();
    }
  });

  test("a schema name that would need quoting is refused with the rule it breaks", () => {
    expect(() => new PostgresStore({ url: pgUrl(), schema: 'x"; DROP' })).toThrow("is not a plain lower-case identifier");
  });
});

describe("roundsOf (how a batch that touches one row twice is split into statements)", () => {
  test.each([
    ["distinct ids: one round", [1, 2, 3], [[0, 1, 2]]],
    ["a repeated id goes to the next round, order kept", [1, 2, 1, 3, 1], [[0, 1, 3], [2], [4]]],
    ["empty batch: no rounds", [], []],
  ])("%s", (_name, ids, rounds) => {
    expect(roundsOf(ids.map((id) => ({ id })))).toEqual(rounds);
  });
});
