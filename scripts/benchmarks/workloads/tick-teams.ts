/**
 * The tick at scale, one team against ten (issue 21): the same N active runs × T task instances (the tick
 * workload's chain DAG), seeded once into team `default` alone and once spread evenly over 10 teams that
 * each have DAG "bench_tick" and quotas set (max_running_tasks, max_pool_slots, max_inline_requests, sized
 * so they do not bind: the rows compare the cost of teams, fair ordering and quota checks, not a throttle).
 * Each team's default_pool is unlimited so pools do not hold runs back either. Measures, on SQLite and
 * Postgres: the first full sweep after start, a steady full sweep, and the decision latency for one newly
 * ready task, with the loop reading team quotas from the store as the server does.
 */
import { join } from "node:path";
import type { DagRecord } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import type { Store } from "../../../src/store";
import { PostgresStore } from "../../../src/store/postgres";
import { skippedRow, type BenchContext, type Workload } from "../lib/context";
import { removeDir, tempDir } from "../lib/leoflow";
import type { Row } from "../lib/stats";
import { nowMs } from "./chain";
import { benchLoop, createRuns, tickDag } from "./tick";
import { serverSqliteStore } from "../lib/sqlite-store";

const WORKLOAD = "tick-teams";
const T0 = new Date("2026-01-01T00:00:00Z");
const LAYOUTS = [1, 10] as const;

export const tickTeamsWorkload: Workload = async (ctx) => {
  const rows: Row[] = [];
  for (const teams of LAYOUTS) {
    const dir = tempDir("tick-teams");
    try {
      rows.push(...(await measure(ctx, "sqlite", teams, () => serverSqliteStore(join(dir, "tick.db")))));
    } finally {
      removeDir(dir);
    }
    const pg = ctx.pg;
    if (pg) rows.push(...(await measure(ctx, "postgres", teams, () => new PostgresStore({ url: pg.url, schema: pg.schema() }))));
  }
  if (!ctx.pg)
    for (const r of rows.filter((r) => r.subject.startsWith("sqlite")))
      rows.push(skippedRow({ ...r, subject: r.subject.replace("sqlite", "postgres") }, "no Postgres"));
  return rows;
};

/** Team names of a layout: `default` alone (today's install), or team-0 … team-9. */
const teamNames = (teams: number) => (teams === 1 ? ["default"] : Array.from({ length: teams }, (_, i) => `team-${i}`));

/** Seeds `runs` runs of DAG bench_tick spread evenly over the teams, 8 creators at once; returns the seeding time. */
async function seed(store: Store, teams: string[], runs: number, tasks: number): Promise<number> {
  const spec = parseDagSpec(tickDag(tasks));
  const dags: DagRecord[] = [];
  for (const team of teams) {
    await store.ensureTeam(team, T0);
    await store.updatePool(team, "default_pool", { slots: -1 });
    dags.push(await store.upsertDag(team, { spec, fileloc: `/bench/dags/${team}/bench_tick.json`, pausedOnCreate: false, now: T0 }));
    if (teams.length > 1) {
      // Twice each team's share of roots: set, checked on every candidate, never the binding limit here.
      const share = Math.ceil(runs / teams.length) * 2;
      await store.updateTeam(team, { max_running_tasks: share, max_pool_slots: share, max_inline_requests: 64 });
    }
  }
  return createRuns(store, dags, runs);
}

async function measure(ctx: BenchContext, name: "sqlite" | "postgres", teams: number, open: () => Store): Promise<Row[]> {
  const { runs, runTasks } = ctx.opts;
  const trials = ctx.opts.trials ?? 5;
  const subject = `${name} · ${teams === 1 ? "1 team (default)" : `${teams} teams, quotas set`}`;
  const store = open();
  const rows: Row[] = [];
  const row = (metric: string, samples: number[], note?: string) =>
    rows.push({ workload: WORKLOAD, metric, subject, kind: "leoflow", better: "lower", samples, note });
  try {
    await store.migrate();
    ctx.log(`tick-teams: seeding ${runs} runs × ${runTasks} tasks over ${teams} team(s) into ${name}`);
    const seedMs = await seed(store, teamNames(teams), runs, runTasks);
    ctx.log(`tick-teams: seeded in ${(seedMs / 1000).toFixed(1)} s`);

    const dispatchedAt = new Map<number, number>();
    const loop = benchLoop(store, dispatchedAt, true);
    const first = await loop.tick();
    row(`first full sweep after start, ${runs} runs (ms)`, [first.durationMs], `one sample; ${first.dispatched} dispatched`);

    // Steady state: the mass change settled and swept past (tick.ts explains), then sweeps with nothing to change.
    await Bun.sleep(2_500);
    loop.wake();
    await loop.tick();
    const steady: number[] = [];
    for (let t = 0; t < trials; t++) {
      loop.wake();
      steady.push((await loop.tick()).durationMs);
    }
    row(`steady full sweep, ${runs} runs (ms)`, steady);

    // One task finishes; the loop is woken for its run; time until its downstream is handed to the dispatcher.
    const wanted = Math.max(20, trials * 4);
    const decisions: number[] = [];
    for (const snap of await store.loadRunSnapshots(await store.listActiveRunIds())) {
      if (decisions.length >= wanted) break;
      const up = snap.tis.find((t) => t.task_id === "t0");
      const down = snap.tis.find((t) => t.task_id === "t1");
      if (!up || !down || up.state !== "queued" || down.state !== "none") continue;
      const now = new Date();
      await store.applyTransitions([{ id: up.id, from: ["queued"], to: "running", try_number: 1, patch: { start_date: now } }], now);
      await store.applyTransitions([{ id: up.id, from: ["running"], to: "success", try_number: 1, patch: { end_date: now } }], now);
      const woke = nowMs();
      loop.wake(snap.run.id);
      await loop.tick();
      const at = dispatchedAt.get(down.id);
      if (at !== undefined) decisions.push(at - woke);
    }
    row("decision latency: wake → downstream dispatched (ms)", decisions);
  } finally {
    await store.close();
  }
  return rows;
}
