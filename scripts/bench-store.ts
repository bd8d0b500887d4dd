/**
 * bench-store: the scheduler tick's store reads and writes at scale, SQLite and Postgres side by side.
 * Seeds N active runs × T task instances per store, then times (median of R repetitions):
 * listActiveRunIds + loadRunSnapshots (the tick's read), applyTransitions of a 1,000-row batch, and
 * countActiveTaskInstances. Prints a table; `--out FILE` also writes JSON.
 *
 * Usage: bun scripts/bench-store.ts [--runs 10000] [--tasks 10] [--reps 5] [--pg postgres://…] [--out bench.json]
 * Postgres runs in a throwaway schema that is dropped afterwards; it is skipped if no server answers.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { parseDagSpec } from "../src/domain";
import { PostgresStore, SqliteStore, type Store, type TaskTransition } from "../src/store";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "10000" },
    tasks: { type: "string", default: "10" },
    reps: { type: "string", default: "5" },
    batch: { type: "string", default: "1000" },
    pg: { type: "string", default: process.env.LEOFLOW_TEST_PG || "postgres://postgres@127.0.0.1:5432/test" },
    out: { type: "string" },
  },
});
const RUNS = Number(args.runs);
const TASKS = Number(args.tasks);
const REPS = Number(args.reps);
const BATCH = Number(args.batch);
const T0 = new Date("2026-01-01T00:00:00Z");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function bench(name: string, store: Store): Promise<Record<string, number | string>> {
  await store.migrate();
  const spec = parseDagSpec({
    dag_id: "bench",
    tasks: Array.from({ length: TASKS }, (_, i) => ({ task_id: `t${i}`, operator: "bash", bash_command: "true", upstream: i ? [`t${i - 1}`] : [] })),
  });
  const dag = await store.upsertDag({ spec, fileloc: "/dags/bench.json", pausedOnCreate: false, now: T0 });
  const tasks = spec.tasks.map((t) => ({ task_id: t.task_id, operator: t.operator, max_tries: 0, pool: t.pool, pool_slots: 1, priority_weight: 1 }));
  const seedMs = await time(async () => {
    // Eight creators at once, as API requests and the cron scheduler would; SQLite serializes them anyway.
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < RUNS; i = next++)
          await store.createDagRun({
            dag_id: "bench",
            run_id: `r${i}`,
            run_type: "manual",
            logical_date: new Date(T0.getTime() + i * 1000),
            data_interval_start: null,
            data_interval_end: null,
            conf: {},
            version_id: dag.version_id,
            queued_at: T0,
            tasks,
          });
      }),
    );
  });

  const read: number[] = [];
  let snapshots = 0;
  for (let r = 0; r < REPS; r++)
    read.push(
      await time(async () => {
        const ids = await store.listActiveRunIds();
        snapshots = (await store.loadRunSnapshots(ids)).reduce((n, s) => n + s.tis.length, 0);
      }),
    );
  const idsOnly: number[] = [];
  for (let r = 0; r < REPS; r++) idsOnly.push(await time(() => store.listActiveRunIds()));

  // Batches over distinct task instances: none → scheduled, 1,000 at a time, each from a different slice.
  const all = (await store.loadRunSnapshots(await store.listActiveRunIds())).flatMap((s) => s.tis.map((t) => t.id));
  const apply: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const batch: TaskTransition[] = all.slice(r * BATCH, (r + 1) * BATCH).map((id) => ({ id, from: ["none"], to: "scheduled" }));
    let applied = 0;
    apply.push(await time(async () => (applied = (await store.applyTransitions(batch, T0)).filter(Boolean).length)));
    if (applied !== batch.length) throw new Error(`${name}: applied ${applied} of ${batch.length} transitions`);
  }
  const queue: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const batch: TaskTransition[] = all
      .slice(r * BATCH, (r + 1) * BATCH)
      .map((id) => ({ id, from: ["scheduled"], to: "queued", patch: { queued_at: T0, executor: "subprocess", note: null } }));
    queue.push(await time(() => store.applyTransitions(batch, T0)));
  }
  const count: number[] = [];
  for (let r = 0; r < REPS; r++) count.push(await time(() => store.countActiveTaskInstances()));

  return {
    store: name,
    seed_runs_per_s: Math.round(RUNS / (seedMs / 1000)),
    tick_read_ms: +median(read).toFixed(1),
    list_active_ids_ms: +median(idsOnly).toFixed(2),
    snapshot_tis: snapshots,
    apply_1000_none_to_scheduled_ms: +median(apply).toFixed(1),
    apply_1000_to_queued_with_patch_ms: +median(queue).toFixed(1),
    count_active_tis_ms: +median(count).toFixed(2),
  };
}

const results: Record<string, number | string>[] = [];

const dir = mkdtempSync(join(tmpdir(), "leoflow-bench-"));
try {
  const sqlite = new SqliteStore({ path: join(dir, "bench.db") });
  results.push(await bench("sqlite", sqlite));
  await sqlite.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const schema = `leoflow_bench_${process.pid}`;
const pg = new PostgresStore({ url: args.pg, schema });
try {
  results.push(await bench("postgres", pg));
} catch (err) {
  console.error(`postgres skipped: ${(err as Error).message}`);
} finally {
  await pg.close();
  const admin = postgres(args.pg, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
  await admin.end();
}

console.log(`store bench: ${RUNS} active runs × ${TASKS} task instances, median of ${REPS}, batches of ${BATCH}`);
console.table(results);
if (args.out) writeFileSync(args.out, JSON.stringify({ runs: RUNS, tasks: TASKS, reps: REPS, batch: BATCH, results }, null, 2));
