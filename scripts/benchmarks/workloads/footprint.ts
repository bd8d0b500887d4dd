/**
 * Footprint: binary size; start-to-healthy (spawn → first 200 from /api/v2/monitor/health), first start (a
 * new data dir: migrations, admin user) and restart; idle RSS 2 s after healthy; RSS with N active runs
 * (seeded into the SQLite file before start: runs running, each with one task running). The floor is a
 * hello-world Bun server compiled the same way (`bun build --compile`), timed to its first 200.
 */
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SqliteStore } from "../../../src/store";
import type { Workload } from "../lib/context";
import { BINARY, cpuMs, removeDir, rssMiB, tempDir, waitFor, writeDags } from "../lib/leoflow";
import type { Row } from "../lib/stats";
import { liteServeArgs } from "../../../test/support/leoflow-process";
import { nowMs } from "./chain";
import { seedRuns, tickDag } from "./tick";

const WORKLOAD = "footprint";
const HELLO = "hello-world Bun server (bun build --compile)";

function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

interface Started {
  healthyMs: number;
  pid: number;
  stop(): Promise<void>;
}

/** Spawns argv (listening on `port`) and times until `path` first answers 200. */
async function startTimed(argv: string[], port: number, path: string, env: Record<string, string> = {}, cwd?: string): Promise<Started> {
  const t0 = nowMs();
  const proc = Bun.spawn(argv, { cwd, env: { ...process.env, ...env }, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  let healthyMs = 0;
  await waitFor(
    async () => {
      if (proc.exitCode !== null) {
        const stderr = await new Response(proc.stderr).text();
        // The loaded case seeds the file with the source tree's migrations: an older binary refuses it.
        const hint = /schema is at version/.test(stderr)
          ? "\n(dist/leoflow is older than the source tree: rebuild it with bun scripts/build.ts, or run scripts/bench without --no-build)"
          : "";
        throw new Error(`${argv.join(" ")} exited ${proc.exitCode}: ${stderr}${hint}`);
      }
      try {
        if ((await fetch(`http://127.0.0.1:${port}${path}`)).status === 200) return ((healthyMs = nowMs() - t0), true);
      } catch {}
      return false;
    },
    60_000,
    () => `${argv[0]} did not answer 200 on ${path}`,
    1,
  );
  return {
    healthyMs,
    pid: proc.pid,
    stop: async () => {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}

const serveArgs = (dir: string, port: number) => [BINARY, ...liteServeArgs(dir), "--port", String(port)];
const ENV = { LEOFLOW_ADMIN_PASSWORD: "bench-admin-password" };
/** How long the loaded server's idle CPU is measured. */
const IDLE_CPU_SECONDS = 10;

export const footprintWorkload: Workload = async (ctx) => {
  const trials = ctx.opts.trials ?? 5;
  const rows: Row[] = [];
  const row = (metric: string, subject: string, samples: number[], kind: Row["kind"] = "leoflow", note?: string, floorMetric?: string) =>
    rows.push({
      workload: WORKLOAD,
      metric,
      subject,
      kind,
      better: "lower",
      samples,
      floor: kind === "leoflow" ? HELLO : undefined,
      floorMetric,
      note,
    });
  const dir = tempDir("footprint");
  try {
    ctx.log("footprint: compiling the hello-world server");
    const hello = join(dir, "hello");
    writeFileSync(
      join(dir, "hello.ts"),
      'Bun.serve({ hostname: "127.0.0.1", port: Number(process.env.PORT), fetch: () => new Response("ok") });\n',
    );
    const build = Bun.spawnSync([process.execPath, "build", "--compile", join(dir, "hello.ts"), "--outfile", hello], {
      stdout: "ignore",
      stderr: "pipe",
    });
    if (build.exitCode !== 0) throw new Error(`bun build --compile hello.ts failed: ${build.stderr.toString()}`);
    const mib = (p: string) => +(statSync(p).size / 2 ** 20).toFixed(1);
    row("binary size (MiB)", "leoflow", [mib(BINARY)]);
    row("binary size (MiB)", HELLO, [mib(hello)], "floor");

    ctx.log("footprint: start-to-healthy");
    const helloStart: number[] = [];
    const helloRss: number[] = [];
    for (let t = 0; t < trials; t++) {
      const port = freePort();
      const s = await startTimed([hello], port, "/", { PORT: String(port) });
      helloStart.push(s.healthyMs);
      await Bun.sleep(2000);
      helloRss.push(await rssMiB(s.pid));
      await s.stop();
    }
    const fresh: number[] = [];
    const restart: number[] = [];
    const idle: number[] = [];
    for (let t = 0; t < trials; t++) {
      const d = join(dir, `lf-${t}`);
      mkdirSync(join(d, "dags"), { recursive: true });
      const port = freePort();
      let s = await startTimed(serveArgs(d, port), port, "/api/v2/monitor/health", ENV, d);
      fresh.push(s.healthyMs);
      await s.stop();
      s = await startTimed(serveArgs(d, port), port, "/api/v2/monitor/health", ENV, d);
      restart.push(s.healthyMs);
      await Bun.sleep(2000);
      idle.push(await rssMiB(s.pid));
      await s.stop();
    }
    const START = "start-to-healthy: spawn → first 200 (ms)";
    row(START, "leoflow, first start (new data dir)", fresh, "leoflow", "migrations + admin user");
    row(START, "leoflow, restart (existing db)", restart);
    row(START, HELLO, helloStart, "floor");
    const IDLE = "idle RSS 2 s after healthy (MiB)";
    row(IDLE, "leoflow, no DAGs", idle);
    row(IDLE, HELLO, helloRss, "floor");

    ctx.log(`footprint: RSS with ${ctx.opts.runs} active runs`);
    const d = join(dir, "loaded");
    const dags = writeDags(d, [tickDag(ctx.opts.runTasks)]);
    const store = new SqliteStore({ path: join(d, "leoflow.db") });
    await store.migrate();
    await seedRuns(store, ctx.opts.runs, ctx.opts.runTasks, join(dags, "bench_tick.json"));
    // Every run running with its first task running (as if agents were out there): the sweep has nothing to do.
    const now = new Date();
    for (const id of await store.listActiveRunIds()) await store.setDagRunState(id, ["queued"], "running", now);
    const roots = (await store.loadRunSnapshots(await store.listActiveRunIds())).map((s) => s.tis.find((t) => t.task_id === "t0")!.id);
    for (const [from, to] of [
      ["none", "scheduled"],
      ["scheduled", "queued"],
      ["queued", "running"],
    ] as const)
      await store.applyTransitions(
        roots.map((id) => ({ id, from: [from], to, patch: to === "running" ? { start_date: now, last_heartbeat: now } : {} })),
        now,
      );
    await store.close();
    const port = freePort();
    const s = await startTimed(serveArgs(d, port), port, "/api/v2/monitor/health", ENV, d);
    try {
      // Wait for the first scheduler sweep (its heartbeat), then let it settle as the idle case does.
      await waitFor(
        async () => (await (await fetch(`http://127.0.0.1:${port}/api/v2/monitor/health`)).json()).scheduler.latest_scheduler_heartbeat,
        60_000,
        () => "no scheduler heartbeat",
        50,
      );
      await Bun.sleep(2000);
      const ACTIVE = `RSS with ${ctx.opts.runs} active runs (MiB)`;
      row(
        ACTIVE,
        "leoflow, current",
        [await rssMiB(s.pid)],
        "leoflow",
        `${ctx.opts.runs} runs × ${ctx.opts.runTasks} tasks, one running each; × floor: vs the hello server's idle RSS`,
        IDLE,
      );
      row(ACTIVE, "leoflow, peak (VmHWM)", [await rssMiB(s.pid, "VmHWM")], "leoflow", undefined, IDLE);
      // What holding them costs while nothing happens: the sweeps (once a second) and the other timers.
      const cpu0 = await cpuMs(s.pid);
      await Bun.sleep(IDLE_CPU_SECONDS * 1000);
      rows.push({
        workload: WORKLOAD,
        metric: `CPU while idle with ${ctx.opts.runs} active runs (ms per second)`,
        subject: "leoflow",
        kind: "leoflow",
        better: "lower",
        samples: [((await cpuMs(s.pid)) - cpu0) / IDLE_CPU_SECONDS],
        note: `${ctx.opts.runs * ctx.opts.runTasks} task instances; user + system CPU over ${IDLE_CPU_SECONDS} s (10 ms ticks)`,
      });
      row(START, `leoflow, restart with ${ctx.opts.runs} active runs`, [s.healthyMs]);
    } finally {
      await s.stop();
    }
  } finally {
    removeDir(dir);
  }
  return rows;
};
