/**
 * Sensors at scale: --runs runs (default 10,000) of a DAG whose one sensor waits on a file that never
 * appears, each run's sensor `deferred` in the control plane, beside the same number of runs of a plain bash
 * DAG whose task is queued (the ordinary tick). Measures, on SQLite and Postgres: the first sweep (every
 * sensor scheduled → deferred), the steady sweep and an event-driven tick with every sensor waiting, the
 * same for the plain DAG, and a sensor round (every check due at once; then none due). No process is ever
 * started for a sensor: the dispatcher counts launches and the row notes say how many.
 */
import { join } from "node:path";
import type { DagRecord } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { SensorChecks } from "../../../src/executors";
import { silentLogger } from "../../../src/observability";
import { SchedulerLoop, SensorPoller, systemClock } from "../../../src/scheduler";
import type { Store } from "../../../src/store";
import { PostgresStore } from "../../../src/store/postgres";
import { skippedRow, type BenchContext, type Workload } from "../lib/context";
import { removeDir, tempDir } from "../lib/leoflow";
import type { Row } from "../lib/stats";
import { nowMs } from "./chain";
import { createRuns } from "./tick";
import { serverSqliteStore } from "../lib/sqlite-store";

const WORKLOAD = "sensors";
const T0 = new Date("2026-01-01T00:00:00Z");

const sensorDag = {
  dag_id: "bench_sensors",
  max_active_runs: 1_000_000,
  max_active_tasks: 1_000_000,
  tasks: [
    { task_id: "wait", operator: "sensor", sensor: { kind: "file", path: "/nonexistent/leoflow-bench/*.csv" }, poke_interval: 3600 },
    { task_id: "after", operator: "bash", bash_command: "true", upstream: ["wait"] },
  ],
};
const plainDag = {
  dag_id: "bench_plain",
  max_active_runs: 1_000_000,
  max_active_tasks: 1_000_000,
  tasks: [{ task_id: "work", operator: "bash", bash_command: "true" }],
};

export const sensorsWorkload: Workload = async (ctx) => {
  const rows: Row[] = [];
  const dir = tempDir("sensors");
  try {
    for (const kind of ["sensor", "plain"] as const)
      rows.push(...(await measure(ctx, "sqlite", kind, () => serverSqliteStore(join(dir, `${kind}.db`)))));
  } finally {
    removeDir(dir);
  }
  if (ctx.pg)
    for (const kind of ["sensor", "plain"] as const)
      rows.push(...(await measure(ctx, "postgres", kind, () => new PostgresStore({ url: ctx.pg!.url, schema: ctx.pg!.schema() }))));
  else
    for (const r of rows.filter((r) => r.subject.startsWith("sqlite")))
      rows.push(skippedRow({ ...r, subject: r.subject.replace("sqlite", "postgres") }, "no Postgres"));
  return rows;
};

async function measure(ctx: BenchContext, name: "sqlite" | "postgres", kind: "sensor" | "plain", open: () => Store): Promise<Row[]> {
  const runs = ctx.opts.runs;
  const trials = ctx.opts.trials ?? 5;
  const store = open();
  const rows: Row[] = [];
  const label = kind === "sensor" ? `${runs} sensors deferred` : `${runs} plain tasks queued`;
  const row = (metric: string, samples: number[], note?: string) =>
    rows.push({ workload: WORKLOAD, metric, subject: `${name} · ${label}`, kind: "leoflow", better: "lower", samples, note });
  try {
    await store.migrate();
    await store.updatePool("default", "default_pool", { slots: -1 });
    const spec = parseDagSpec(kind === "sensor" ? sensorDag : plainDag);
    const dag: DagRecord = await store.upsertDag("default", { spec, fileloc: `/bench/${kind}.json`, pausedOnCreate: false, now: T0 });
    ctx.log(`sensors: seeding ${runs} ${kind} runs into ${name}`);
    await createRuns(store, [dag], runs);
    let launched = 0;
    let loop: SchedulerLoop | undefined;
    // Started by hand (round() below), never by its timer: the poke interval is an hour.
    const poller = new SensorPoller({
      store,
      checker: new SensorChecks(store),
      clock: systemClock,
      logger: silentLogger,
      wake: (id) => loop?.wake(id),
    });
    loop = new SchedulerLoop({
      store,
      dispatcher: { dispatch: async () => void launched++ },
      logger: silentLogger,
      sweepIntervalMs: 3_600_000,
      tickTimeoutMs: 3_600_000,
      parallelism: 1_000_000_000,
      sensors: kind === "sensor" ? poller : undefined,
    });
    const first = await loop.tick();
    row("first sweep: every run started, its first task deferred or queued (ms)", [first.durationMs], `one sample; ${launched} launched`);
    // The mass change settled and swept past (tick.ts explains), then measure steady sweeps.
    await Bun.sleep(2_500);
    loop.wake();
    await loop.tick();
    const steady: number[] = [];
    for (let t = 0; t < trials; t++) {
      loop.wake();
      steady.push((await loop.tick()).durationMs);
    }
    row(`steady full sweep, ${runs} runs (ms)`, steady);
    const ids = await store.listActiveRunIds();
    const event: number[] = [];
    for (let t = 0; t < trials * 4; t++) {
      loop.wake(ids[t % ids.length]);
      event.push((await loop.tick()).durationMs);
    }
    row("event tick: one run woken (ms)", event, `${launched} launched in all`);
    if (kind === "sensor") {
      const due = await store.listDueSensors(new Date(), runs + 1);
      const s = nowMs();
      await poller.poll();
      row(`sensor round: ${due.length} checks due at once, each a file glob (ms)`, [nowMs() - s], "one sample; concurrency 32");
      const idle: number[] = [];
      for (let t = 0; t < trials; t++) {
        const t0 = nowMs();
        await poller.poll();
        idle.push(nowMs() - t0);
      }
      row("sensor round: none due (ms)", idle, "listDueSensors + nextSensorCheckAt through the (state, next_check_at) index");
    }
  } finally {
    await store.close();
  }
  return rows;
}
