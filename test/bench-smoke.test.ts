/**
 * The bench's smoke run: every workload at its smallest size, so scripts/bench cannot rot. It checks only
 * that the run ends well and prints a table with every workload's rows (Leoflow, floor, and the peers when
 * installed); never a timing. It needs no network: peers are skipped unless already installed (--no-install).
 * Most of a workload's time is fixed waits (a cron window, a sweep's settle time, RSS after idling), so the
 * workloads run as three `scripts/bench` processes at once, each its own run with its own table and JSON.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { peersInstalled } from "../scripts/benchmarks/lib/peers";
import { pgAvailable, pgUrl } from "./support/postgres";
import { BINARY } from "./e2e/harness";

const ROOT = resolve(import.meta.dir, "..");
/**
 * Workloads per process, balanced by how long each takes alone at the smallest sizes (2026-12-07: cron 17.8 s,
 * footprint 17.6, tick 11.4, tick-teams 11.1, fanout 5.3, chain 4.1, logs 1.8, floor 0.3): ~23 s a process, where
 * the group of tick, fanout and footprint took 34. chain and floor share one: chain's ratio to the floor needs the
 * floor's rows in its run.
 */
const GROUPS = [
  ["cron", "fanout"],
  ["chain", "floor", "logs", "footprint"],
  ["tick", "tick-teams"],
];

describe("scripts/bench smoke run (smallest sizes)", () => {
  test.skipIf(!existsSync(BINARY))(
    "every workload runs and prints its table rows",
    async () => {
      const withPg = await pgAvailable();
      if (!peersInstalled())
        console.log("bench smoke: peers (bullmq, graphile-worker) not installed in scripts/benchmarks/.peers; their rows are skipped");
      const dir = mkdtempSync(join(tmpdir(), "leoflow-bench-smoke-"));
      try {
        const args = [
          "--trials",
          "1",
          "--chain",
          "2",
          "--fanout",
          "2",
          "--fanout-bash",
          "1",
          "--parallelism",
          "2",
          "--runs",
          "3",
          "--run-tasks",
          "2",
        ];
        args.push("--cron-dags", "1", "--cron-seconds", "1", "--log-lines", "20", "--no-install", "--pg", pgUrl());
        args.push("--variants", withPg ? "lite-sqlite,pro-postgres" : "lite-sqlite");
        const runs = await Promise.all(
          GROUPS.map(async (workloads, i) => {
            const out = join(dir, `bench-${i}.json`);
            // The first group runs the binaries as the installed service would (--launch unit), the others bare.
            const launch = i === 0 ? ["--launch", "unit"] : [];
            const proc = Bun.spawn([process.execPath, "scripts/benchmarks/main.ts", ...workloads, ...args, ...launch, "--out", out], {
              cwd: ROOT,
              env: { ...process.env, LEOFLOW_BENCH_BINARY: BINARY },
              stdout: "pipe",
              stderr: "pipe",
            });
            const [stdout, stderr, code] = await Promise.all([
              new Response(proc.stdout).text(),
              new Response(proc.stderr).text(),
              proc.exited,
            ]);
            if (code !== 0) console.error(`scripts/bench ${workloads.join(" ")} exited ${code}:\n${stdout}${stderr}`);
            return { code, stdout, json: code === 0 ? JSON.parse(readFileSync(out, "utf8")) : null };
          }),
        );
        expect(runs.map((r) => r.code)).toEqual(GROUPS.map(() => 0));
        const stdout = runs.map((r) => r.stdout).join("\n");

        expect(stdout).toMatch(/machine: \d+ cores \(nproc\), .+ GiB memory/);
        expect(stdout).toContain("peers: bullmq 6.7.0");
        // What the run did to Postgres's state before it started, or that Postgres was not there.
        expect(stdout).toMatch(withPg ? /postgres: (.*; )?autovacuum (on|off)/ : /postgres: not answering/);
        expect(runs[0]!.stdout).toContain(
          "launch: with the systemd unit's environment (MIMALLOC_PURGE_DELAY=1000 BUN_JSC_useWarmUpMarkedBlocks=false)",
        );
        expect(runs[1]!.stdout).toContain("launch: bare (as ./leoflow serve from a shell)");
        expect(runs.map((r) => r.json.options.launch)).toEqual(["unit", "bare", "bare"]);
        for (const w of ["chain", "fanout", "tick", "cron", "footprint", "floor", "logs"]) expect(stdout).toContain(`#### ${w}: `);
        const rows = [
          "| leoflow lite sqlite · http |",
          "| leoflow lite sqlite · bash |",
          "| bullmq 6.7.0 |",
          "| graphile-worker 0.18.0 |",
          // The peers' jobs doing an http task's work (a local GET) beside their no-op rows.
          "| bullmq 6.7.0 · http |",
          "| graphile-worker 0.18.0 · http |",
          "| sqlite commit + agent spawn |",
          // The bash hop's floors: bash after bash, and the same with each exit committed by a server first.
          "| bash after bash, beside the chains |",
          "| bash after bash, each exit committed by a server first |",
          // The http hop's floor: a commit and one local request, what an inline hop cannot do without.
          "| sqlite commit + http request |",
          "| agent spawns (leoflow version), 2 at once |",
          "| sqlite · unlimited pool, nothing waiting |",
          "| scheduler in-process · sqlite |",
          "| leoflow, restart (existing db) |",
          "| hello-world Bun server (bun build --compile) |",
          "| bash -c 'seq 1 N' alone |",
        ];
        if (withPg)
          rows.push(
            "| leoflow pro postgres · bash |",
            "| postgres commit |",
            "| postgres commit + http request |",
            "| postgres · unlimited pool, nothing waiting |",
          );
        for (const r of rows) expect(stdout).toContain(r);
        expect(stdout).not.toContain("failed:");

        const results = runs.flatMap((r) => r.json.results);
        for (const r of runs) expect(r.json.machine.nproc).toBeGreaterThan(0);
        expect(new Set(results.map((r: { workload: string }) => r.workload))).toEqual(
          new Set(["chain", "fanout", "tick", "tick-teams", "cron", "footprint", "floor", "logs"]),
        );
        /** The result row of `workload` for `subject` and `metric`. */
        const row = (workload: string, subject: string, metric: string) =>
          results.find((r: any) => r.workload === workload && r.subject === subject && r.metric === metric);
        const rate = "tasks completed per second";
        expect(row("chain", "leoflow lite sqlite · http", "per-hop latency (ms)")).toMatchObject({ n: 1, vs_floor: expect.any(Number) });
        // A fresh server's first chain, before the warm-up chains, is a row of its own beside the warm trials'.
        expect(row("chain", "leoflow lite sqlite · bash", "per-hop latency, a fresh server's first chain (ms)")).toMatchObject({
          n: 1,
          vs_floor: expect.any(Number),
        });
        // The chain's peers also do an http task's GET, their hop timed on the no-op server's clock as Leoflow's:
        // one hop for a chain of two.
        if (peersInstalled())
          for (const subject of ["bullmq 6.7.0 · http", "graphile-worker 0.18.0 · http"].slice(0, withPg ? 2 : 1))
            expect(row("chain", subject, "per-hop latency (ms)")).toMatchObject({ n: 1, median: expect.any(Number) });
        // The fan-out's note says when each trial's first task started: the run's fixed part of the span.
        expect(row("fanout", "leoflow lite sqlite · http", rate).note).toMatch(/the first task started \d+ ms after the trigger$/);
        // Beside each fan-out's rate, what its tasks cost the whole machine (every process's CPU ÷ tasks).
        expect(row("fanout", "leoflow lite sqlite · http", "machine CPU per task (µs, every process)")).toMatchObject({
          n: 1,
          better: "lower",
          median: expect.any(Number),
        });
        for (const subject of [
          // The untimed warm-up run before the trials (--warmup, default 1) is a row of its own, not a trial.
          "leoflow lite sqlite · http (warm-up)",
          // The same http fan-out held back by a pool of --parallelism slots instead of by parallelism.
          "leoflow lite sqlite · http, in a pool of 2",
          // The same tasks split between two teams, each half in its team's own pool, and both held back by parallelism.
          "leoflow lite sqlite · http, two teams each in a pool of 1",
          "leoflow lite sqlite · http, two teams at parallelism 2",
        ])
          expect({ subject, row: row("fanout", subject, rate) }).toMatchObject({ subject, row: { n: 1, median: expect.any(Number) } });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    300_000,
  );
});
