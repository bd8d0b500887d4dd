/**
 * Cron lateness: D DAGs scheduled every second (croner's 6-field cron, catchup off), watched for S seconds;
 * per scheduled run, queued_at − its slot (data_interval_end, when the slot became due). Two ways:
 * - the binary (each DAG one inline http no-op task), runs read over the API, on each variant;
 * - the scheduler in-process (formerly scripts/bench-cron.ts): SchedulerLoop + CronRunCreator on a store,
 *   an agent stand-in that finishes each task at once; isolates the scheduler from executors and the API.
 * With catchup off a scheduler that falls behind skips slots; the note says how many slots got no run.
 */
import { join } from "node:path";
import type { TaskInstanceRecord } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { silentLogger } from "../../../src/observability";
import { CronRunCreator, SchedulerLoop } from "../../../src/scheduler";
import type { Store } from "../../../src/store";
import { PostgresStore } from "../../../src/store/postgres";
import { skippedRow, type BenchContext, type Workload } from "../lib/context";
import { listAll, removeDir, tempDir, waitFor } from "../lib/leoflow";
import { eachLeoflowVariant } from "../lib/leoflow-workload";
import type { Row } from "../lib/stats";
import { serverSqliteStore } from "../lib/sqlite-store";

const WORKLOAD = "cron";
const METRIC = "lateness: run queued_at − slot (ms)";

function cronDag(i: number, base: string | null) {
  return {
    dag_id: `bench_cron_${i}`,
    schedule: "* * * * * *",
    catchup: false,
    tasks: [
      base ? { task_id: "t", operator: "http", http: { url: `${base}/noop` } } : { task_id: "t", operator: "bash", bash_command: "true" },
    ],
  };
}

/** Lateness of the scheduled runs whose slot fell inside [from, to); and how many slots got no run. */
function lateness(
  runs: { run_type: string; queued_at: string | Date; data_interval_end: string | Date | null }[],
  from: number,
  to: number,
  dags: number,
) {
  const ms = (d: string | Date) => (typeof d === "string" ? Date.parse(d) : d.getTime());
  const inWindow = runs.filter(
    (r) => r.run_type === "scheduled" && r.data_interval_end && ms(r.data_interval_end) >= from && ms(r.data_interval_end) < to,
  );
  const expected = dags * Math.floor((to - from) / 1000);
  return {
    samples: inWindow.map((r) => ms(r.queued_at) - ms(r.data_interval_end!)),
    missed: Math.max(0, expected - inWindow.length),
    expected,
  };
}

export const cronWorkload: Workload = async (ctx) => [...(await viaBinary(ctx)), ...(await inProcess(ctx))];

async function viaBinary(ctx: BenchContext): Promise<Row[]> {
  const { cronDags: dags, cronSeconds: seconds } = ctx.opts;
  return eachLeoflowVariant(ctx, {
    workload: WORKLOAD,
    skipped: (label) => [{ workload: WORKLOAD, metric: METRIC, subject: `leoflow ${label} · http`, kind: "leoflow", better: "lower" }],
    dags: (base) => Array.from({ length: dags }, (_, i) => cronDag(i, base)),
    logSuffix: `, ${dags} DAGs every second for ${seconds} s`,
    measure: async (lf, variant) => {
      await waitFor(
        async () => (await lf.api("GET", "/api/v2/dags?limit=1")).body.total_entries >= dags,
        60_000,
        () => `DAGs did not load:\n${lf.output().slice(-3000)}`,
        100,
      );
      // Start counting at the next whole second after every DAG is known (the first slots are start-up).
      const from = Math.ceil(Date.now() / 1000) * 1000 + 1000;
      const to = from + seconds * 1000;
      await Bun.sleep(to - Date.now() + 1500);
      const runs = await listAll(lf, "/api/v2/dags/~/dagRuns", "dag_runs");
      const r = lateness(runs, from, to, dags);
      return [
        {
          workload: WORKLOAD,
          metric: METRIC,
          subject: `leoflow ${variant.label} · http`,
          kind: "leoflow",
          better: "lower",
          samples: r.samples,
          note: `binary; ${r.missed} of ${r.expected} slots got no run`,
        },
      ];
    },
  });
}

async function inProcess(ctx: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  const dir = tempDir("cron-inproc");
  try {
    rows.push(await schedulerOnly(ctx, "sqlite", serverSqliteStore(join(dir, "cron.db"))));
  } finally {
    removeDir(dir);
  }
  if (ctx.pg) rows.push(await schedulerOnly(ctx, "postgres", new PostgresStore({ url: ctx.pg.url, schema: ctx.pg.schema() })));
  else
    rows.push(
      skippedRow(
        { workload: WORKLOAD, metric: METRIC, subject: "scheduler in-process · postgres", kind: "leoflow", better: "lower" },
        "no Postgres",
      ),
    );
  return rows;
}

async function schedulerOnly(ctx: BenchContext, name: string, store: Store): Promise<Row> {
  const { cronDags: dags, cronSeconds: seconds } = ctx.opts;
  ctx.log(`cron: scheduler in-process on ${name}`);
  try {
    await store.migrate();
    for (let i = 0; i < dags; i++)
      await store.upsertDag("default", {
        spec: parseDagSpec(cronDag(i, null)),
        fileloc: `/bench/dags/cron_${i}.json`,
        pausedOnCreate: false,
        now: new Date(),
      });
    let loop: SchedulerLoop;
    const agent = {
      async dispatch(ti: TaskInstanceRecord) {
        const now = new Date();
        await store.applyTransitions(
          [{ id: ti.id, from: ["queued"], to: "running", try_number: ti.try_number, patch: { start_date: now } }],
          now,
        );
        await store.applyTransitions(
          [{ id: ti.id, from: ["running"], to: "success", try_number: ti.try_number, patch: { end_date: now } }],
          now,
        );
        queueMicrotask(() => loop.wake(ti.dag_run_id));
      },
    };
    loop = new SchedulerLoop({
      store,
      dispatcher: agent,
      logger: silentLogger,
      sweepIntervalMs: 5_000,
      parallelism: 1024,
      runCreator: new CronRunCreator({ store, logger: silentLogger }),
    });
    loop.start();
    const from = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    const to = from + seconds * 1000;
    await Bun.sleep(to - Date.now() + 1500);
    await loop.stop();
    const runs = (await store.listDagRuns("default", { limit: 1_000_000 })).items;
    const r = lateness(runs, from, to, dags);
    return {
      workload: WORKLOAD,
      metric: METRIC,
      subject: `scheduler in-process · ${name}`,
      kind: "leoflow",
      better: "lower",
      samples: r.samples,
      note: `instant agent; ${r.missed} of ${r.expected} slots got no run`,
    };
  } finally {
    await store.close();
  }
}
