/** The Store contract on SQLite (a fresh :memory: database per test), plus what only a file can show. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDagSpec } from "../../src/domain/schemas";
import { SqliteStore, guardedStore } from "../../src/store";
import { SQLITE_MIGRATIONS } from "../../src/store/sqlite/migrations";
import { runStoreContract } from "./contract";
import { newRun, runTask } from "./contract-fixtures";

// The store as openStore hands it out: behind the transition guard, which the contract proves.
runStoreContract("sqlite", async () => guardedStore(new SqliteStore({ path: ":memory:" })));

describe("SqliteStore on a file", () => {
  // Made when its tests run: a name filter (bun test -t) that skips them all then leaves no folder behind.
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "leoflow-store-"));
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  test("state survives reopening, and migrating again applies nothing", async () => {
    const path = join(dir, "leoflow.db");
    const now = new Date("2026-01-01T00:00:00Z");
    const first = new SqliteStore({ path });
    await first.migrate();
    const spec = parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] });
    const dag = await first.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now });
    const run = await first.createDagRun(newRun(dag, "r1", { logical_date: now, conf: { a: 1 }, queued_at: now }));
    await first.close();

    const second = new SqliteStore({ path });
    await second.migrate();
    await second.migrate();
    expect(await second.getDag("default", "etl")).toEqual(dag);
    expect(await second.getDagRun("default", "etl", "r1")).toEqual(run);
    expect(await second.listActiveRunIds()).toEqual([run.id]);
    const migrations = second.db.query("SELECT version, name FROM schema_migrations").all();
    expect(migrations).toEqual(SQLITE_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    expect(second.db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(second.db.query("PRAGMA foreign_keys").get()).toEqual({ foreign_keys: 1 });
    await second.close();
  });

  test("a custom xcomMaxBytes is the limit the error names", async () => {
    const store = new SqliteStore({ path: ":memory:", xcomMaxBytes: 10 });
    await store.migrate();
    const key = { team: "default", dag_id: "d", run_id: "r", task_id: "t", key: "k" };
    await store.setXCom(key, "12345678", new Date(0)); // 10 bytes with quotes: fits
    await expect(store.setXCom(key, "123456789", new Date(0))).rejects.toThrow(
      "XCom k of task t is 11 bytes; the limit is 10 bytes (--xcom-max-bytes)",
    );
    await store.close();
  });
});

describe("SqliteStore prepared statements", () => {
  test("a statement stays prepared while a busy server runs a hundred others (bun:sqlite keeps 20 by default)", async () => {
    const store = new SqliteStore({ path: ":memory:" });
    await store.migrate();
    const first = store.db.query("SELECT count(*) FROM task_instances");
    for (let i = 0; i < 100; i++) store.db.query(`SELECT ${i} FROM dag_runs`).all();
    expect(store.db.query("SELECT count(*) FROM task_instances")).toBe(first);
    await store.close();
  });
});

/** The statement texts `calls` sends to the store's database, each once. */
async function statementsOf(store: SqliteStore, calls: () => Promise<unknown>): Promise<string[]> {
  const seen = new Set<string>();
  const query = store.db.query.bind(store.db);
  store.db.query = ((sql: string) => {
    seen.add(sql);
    return query(sql);
  }) as typeof store.db.query;
  try {
    await calls();
  } finally {
    store.db.query = query;
  }
  return [...seen];
}

/** EXPLAIN QUERY PLAN's lines for `sql`. */
const planOf = (store: SqliteStore, sql: string): string[] =>
  (store.db.query(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail);

describe("SqliteStore query plans", () => {
  test("a DAG's counts of its active runs (max_active_runs gate, cron sweep) read the active ones only, not its history", async () => {
    const store = new SqliteStore({ path: ":memory:" });
    await store.migrate();
    const spec = parseDagSpec({ dag_id: "etl", schedule: "@daily", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now: new Date(0) });
    const run = await store.createDagRun(newRun(dag, "r1", { tasks: [runTask("t")] }));
    const seen = await statementsOf(store, async () => {
      await store.loadRunGates([run.id], [{ team: "default", dag_id: "etl" }]);
      await store.listScheduledDags();
    });
    // The gate's count of running runs and the cron sweep's count of active ones, per DAG.
    const counts = seen.filter((sql) => /count\(\*\) FROM dag_runs r\s+WHERE r\.team = d\.team/.test(sql));
    expect(counts).toHaveLength(2);
    for (const sql of counts) {
      const plan = planOf(store, sql).join("\n");
      expect({ sql, plan }).toEqual({
        sql,
        plan: expect.stringContaining("SEARCH r USING INDEX dag_runs_running (team=? AND dag_id=? AND state"),
      });
    }
    await store.close();
  });

  // 0019 dropped task_instances_pool_state, which kept a copy of every state change for no reader: the reads by
  // state must still find their rows through an index, not a scan of every task instance a store holds.
  test("the scheduler's, reapers' and pools' reads of task instances search an index, never walk them all", async () => {
    const store = new SqliteStore({ path: ":memory:" });
    await store.migrate();
    const seen = await statementsOf(store, async () => {
      await store.loadTickReads([], []);
      await store.countActiveTaskInstances();
      await store.listPools("default");
      await store.listAgentLostCandidates();
      await store.listDispatchLostCandidates();
      await store.nextSensorCheckAt();
      // A cursor behind both the change counter and the ids: with one that has not moved the read is skipped.
      await store.listRunIdsChangedAfter("-1:-1");
      await store.countActiveByTask([{ team: "default", dag_id: "etl", task_id: "t" }]);
    });
    // Counted per task through the state index, not the natural key (every task instance the DAG ever had).
    const byTask = seen.find((sql) => /count\(\*\) FROM task_instances t\s+WHERE \+?t\.team/.test(sql));
    expect(planOf(store, byTask!)).toContain("SEARCH t USING INDEX task_instances_state (state=?)");
    // By state, and the incremental sweep's by change stamp and by id (by updated_at it was once planned as a walk
    // of a whole index).
    const reads = seen.filter((sql) => /FROM task_instances\b/.test(sql) && /\b(state (=|IN)|change_seq >|id >)/.test(sql));
    expect(reads.length).toBeGreaterThanOrEqual(8);
    for (const sql of reads) {
      const plan = planOf(store, sql);
      // "SCAN task_instances USING INDEX …" is a walk of every entry too, only in that index's order.
      expect({ sql, scans: plan.filter((d) => /^SCAN (task_instances|t)\b/.test(d)) }).toEqual({ sql, scans: [] });
      // 0024 made both indexes partial: a read that does not repeat an index's WHERE term cannot use it (partial-index-terms.ts).
      // The sensors' due check has an index of its own (0015).
      const wanted = /change_seq >/.test(sql)
        ? /INDEX task_instances_run_change \(/
        : /\bstate (=|IN)/.test(sql)
          ? /INDEX task_instances_(state|next_check) \(/
          : null;
      if (wanted) expect({ sql, plan: plan.join("\n") }).toEqual({ sql, plan: expect.stringMatching(wanted) });
    }
    // Indexes every transition kept for no reader (0019, 0022).
    expect(
      store.db.query("SELECT name FROM sqlite_master WHERE name IN ('task_instances_pool_state', 'task_instances_updated_at')").all(),
    ).toEqual([]);
    await store.close();
  });

  // 0026: a woken tick reads the capacity before every dispatch; through an index on state alone it looked up every
  // queued and running row and sorted them (11-13 ms a decision with 10,000 runs each holding a queued task).
  test("the capacity counts read the state index's entries alone, in its order: no row looked up, no sort", async () => {
    const store = new SqliteStore({ path: ":memory:" });
    await store.migrate();
    const seen = await statementsOf(store, async () => {
      await store.loadTickReads([], []);
      await store.countActiveTaskInstances();
    });
    const counts = seen.filter((sql) => /FROM task_instances WHERE state IN \('queued', 'running'\).*GROUP BY/s.test(sql));
    expect(counts).toHaveLength(2);
    const queuedAndRunning = "SEARCH task_instances USING COVERING INDEX task_instances_state (state=?)";
    for (const sql of counts)
      expect({ sql, plan: planOf(store, sql) }).toEqual({
        sql,
        plan: sql.includes("UNION ALL")
          ? // The tick's read adds the deferred task instances of pools with include_deferred, read from those pools
            // outward: with none, not one task instance (10,000 sensors may wait deferred).
            [
              "COMPOUND QUERY",
              "LEFT-MOST SUBQUERY",
              queuedAndRunning,
              "UNION ALL",
              "SCAN p",
              "SEARCH t USING COVERING INDEX task_instances_state (state=? AND team=?)",
              "USE TEMP B-TREE FOR GROUP BY",
            ]
          : [queuedAndRunning],
      });
    await store.close();
  });

  // 0025: the natural key holds a run's rows by task_id, so every page in id order sorted all of the run's rows.
  test("a run's page of task instances in id order, and its total, read the run's index up to the page's end: no sort", async () => {
    const store = new SqliteStore({ path: ":memory:" });
    await store.migrate();
    const ids = ["c", "b", "a"];
    const spec = parseDagSpec({ dag_id: "etl", tasks: ids.map((task_id) => ({ task_id, operator: "bash", bash_command: "true" })) });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now: new Date(0) });
    await store.createDagRun(newRun(dag, "r1", { tasks: ids.map((id) => runTask(id)) }));
    const seen = await statementsOf(store, async () => {
      await store.findTaskInstances("default", { dag_id: "etl", run_id: "r1", limit: 2, offset: 1 });
      await store.findTaskInstances("default", { dag_id: "etl", run_id: "r1", limit: 2, offset: 1, order_by: "-id" });
    });
    const reads = seen.filter((sql) => /FROM task_instances\b/.test(sql));
    expect(reads).toHaveLength(3); // two pages (ascending, descending) and the total they share
    for (const sql of reads) {
      const plan = planOf(store, sql).join("\n");
      expect({ sql, plan }).toEqual({
        sql,
        plan: expect.stringMatching(/SEARCH task_instances USING (COVERING )?INDEX task_instances_run_order \(dag_run_id=\?\)/),
      });
      expect({ sql, plan }).toEqual({ sql, plan: expect.not.stringContaining("TEMP B-TREE") });
    }
    await store.close();
  });
});

describe("SqliteStore migrations", () => {
  test("upgrading to 0020: the log lines stored a row each read back the same, and new ones append after them", async () => {
    const store = new SqliteStore({ path: ":memory:" });
    await store.migrate();
    const now = new Date("2026-01-01T00:00:00Z");
    const spec = parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "a", operator: "bash", bash_command: "true" }] });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now });
    const run = await store.createDagRun(newRun(dag, "r1", { tasks: [runTask("a")] }));
    const id = (await store.loadRunSnapshots([run.id]))[0]!.tis[0]!.id;
    // The table as 0019 left it, with a try's lines in it.
    store.db.run("DROP TABLE task_log_chunks");
    store.db.run("DELETE FROM schema_migrations WHERE version = 20");
    store.db.run(`CREATE TABLE task_logs (ti_id INTEGER NOT NULL REFERENCES task_instances (id) ON DELETE CASCADE,
      try_number INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, stream TEXT NOT NULL, line TEXT NOT NULL,
      PRIMARY KEY (ti_id, try_number, seq)) WITHOUT ROWID`);
    for (const [seq, stream, line] of [
      [0, "stdout", "hello"],
      [1, "stderr", 'say "hi", \\ and ☃'],
    ] as const)
      store.db.run("INSERT INTO task_logs VALUES (?, 1, ?, ?, ?, ?)", [id, seq, now.getTime() + seq, stream, line]);
    await store.migrate();
    await store.appendLogs(id, 1, 2, [{ timestamp: now, stream: "stdout", line: "after" }]);
    expect(await store.readLogs(id, 1)).toEqual([
      { seq: 0, timestamp: now, stream: "stdout", line: "hello" },
      { seq: 1, timestamp: new Date(now.getTime() + 1), stream: "stderr", line: 'say "hi", \\ and ☃' },
      { seq: 2, timestamp: now, stream: "stdout", line: "after" },
    ]);
    expect(store.db.query("SELECT name FROM sqlite_master WHERE name = 'task_logs'").all()).toEqual([]);
    await store.close();
  });

  test("upgrading to 0021: events stored a row each read back in id order with the new ones; ids go on after the newest ever given", async () => {
    const store = new SqliteStore({ path: ":memory:" });
    await store.migrate();
    const now = new Date("2026-01-01T00:00:00Z");
    const old = (runId: string) => JSON.stringify({ type: "dag_run.created", team: "default", dag_id: "etl", run_id: runId });
    // The tables as 0020 left them: three events in event_log, the newest deleted by retention since.
    store.db.run("DROP TABLE event_log_batches");
    store.db.run("DELETE FROM schema_migrations WHERE version = 21");
    for (const r of ["o1", "o2", "o3"])
      store.db.run("INSERT INTO event_log (team, event, created_at) VALUES ('default', ?, ?)", [old(r), now.getTime()]);
    store.db.run("DELETE FROM event_log WHERE id = 3");
    await store.migrate();
    const ids = await store.appendEvents(
      [
        { type: "dag_run.created", team: "default", run_id: "n1" },
        { type: "dag_run.created", team: "default", run_id: "n2" },
      ],
      now,
    );
    expect(ids).toEqual([4, 5]);
    const read = await store.readEventsAfter(0, 100);
    expect(read.map((r) => [r.id, r.event.run_id])).toEqual([
      [1, "o1"],
      [2, "o2"],
      [4, "n1"],
      [5, "n2"],
    ]);
    expect(read[0]!.created_at).toEqual(now);
    expect((await store.readEventsAfter(1, 2)).map((r) => r.id)).toEqual([2, 4]);
    expect(await store.lastEventId()).toBe(5);
    await store.close();
  });

  test("upgrading to 0009: task instances waiting at the upgrade get their wait_reason from the note", async () => {
    const store = new SqliteStore({ path: ":memory:" });
    await store.migrate();
    const now = new Date("2026-01-01T00:00:00Z");
    const spec = parseDagSpec({
      dag_id: "etl",
      tasks: ["past", "pool", "other"].map((task_id) => ({ task_id, operator: "bash", bash_command: "true" })),
    });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now });
    await store.createDagRun(newRun(dag, "r1", { tasks: ["past", "pool", "other"].map((id) => runTask(id)) }));
    // The rows as a 0008 scheduler left them: the reason only in the note.
    store.db.run("ALTER TABLE task_instances DROP COLUMN wait_reason");
    store.db.run("DELETE FROM schema_migrations WHERE version = 9");
    const notes: [string, string, string][] = [
      [
        "past",
        "none",
        "depends_on_past: waiting for past in the previous run jan (failed) to succeed or be skipped; clear or mark that task instance to let this run go on",
      ],
      ["pool", "scheduled", "waiting for 2 slots in pool gpu (1 of 4 open)"],
      ["other", "scheduled", "dispatch attempt 1/3 failed: spawn ENOENT"],
    ];
    for (const [task_id, state, note] of notes)
      store.db.run("UPDATE task_instances SET state = ?, note = ? WHERE task_id = ?", [state, note, task_id]);
    await store.migrate();
    const rows = store.db.query("SELECT task_id, wait_reason FROM task_instances ORDER BY task_id").all();
    expect(rows).toEqual([
      { task_id: "other", wait_reason: null },
      { task_id: "past", wait_reason: "depends_on_past" },
      { task_id: "pool", wait_reason: "pool_full" },
    ]);
    await store.close();
  });
});
