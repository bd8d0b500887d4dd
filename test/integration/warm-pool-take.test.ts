/**
 * Which agent a try gets from the warm pool while the only agent is still sending its last try's report: the
 * reporting one when it frees before a new agent is ready (a slow report on a loaded machine once sent a chain
 * to a cold start after 50 ms), the new one when it is ready first. Stand-in agents: a bash script that speaks
 * the control lines (say `ready`, then for each try line `reporting`, a pause, `done`), started for real.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentProcess, type AgentHooks } from "../../src/executors/subprocess-agent";
import { WarmAgentPool } from "../../src/executors/subprocess-pool";
import { createLogger } from "../../src/observability";

const dir = mkdtempSync(join(tmpdir(), "leoflow-pool-take-"));
const script = join(dir, "agent.sh");
writeFileSync(
  script,
  [
    'sleep "$1"',
    `echo 'leoflow-control {"ready":true}'`,
    "while read -r line; do",
    `  echo 'leoflow-control {"reporting":true}'`,
    '  sleep "$2"',
    `  echo 'leoflow-control {"done":0}'`,
    "done",
  ].join("\n"),
);
const pools: WarmAgentPool[] = [];
const agents: AgentProcess[] = [];
afterAll(() => {
  for (const p of pools) p.close();
  for (const a of agents) a.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** A pool of one whose first agent starts at once; later ones take `laterStartS` to say ready. */
function pool(laterStartS: number, reportS: number): { pool: WarmAgentPool; started: AgentProcess[] } {
  const started: AgentProcess[] = [];
  const p = new WarmAgentPool({
    size: 1,
    server: "http://127.0.0.1:1",
    logger: createLogger("test", "error"),
    start: (hooks: AgentHooks) => {
      const startS = started.length === 0 ? 0 : laterStartS;
      const a = new AgentProcess(["bash", script, String(startS), String(reportS)], { PATH: process.env.PATH ?? "" }, true, hooks);
      started.push(a);
      agents.push(a);
      return a;
    },
  });
  pools.push(p);
  p.start();
  return { pool: p, started };
}

/** Takes the pool's first agent once ready and starts a try on it; resolves once that agent says it is reporting. */
async function busyReporting(p: WarmAgentPool, started: AgentProcess[]): Promise<AgentProcess> {
  await started[0]!.settled;
  const first = await p.take();
  expect(first).toBe(started[0]!);
  void first.run({}).then(() => p.release(first));
  while (!first.reporting) await Bun.sleep(5);
  return first;
}

test("a report slower than the wait for it: the next try still takes the reporting agent when it frees first", async () => {
  const { pool: p, started } = pool(10, 0.4);
  const first = await busyReporting(p, started);
  const next = await p.take();
  expect(next).toBe(first);
  // The agent started meanwhile stays, idle, for the next try (retired later if the pool is over its size).
  expect(started).toHaveLength(2);
  expect(p.stats()).toMatchObject({ agents: 2, idle: 1 });
}, 30_000);

test("a report that outlasts a start: the next try takes the new agent once it is ready", async () => {
  const { pool: p, started } = pool(0, 20);
  const first = await busyReporting(p, started);
  const next = await p.take();
  expect(next).not.toBe(first);
  expect(started).toHaveLength(2);
  expect(next).toBe(started[1]!);
  expect(next.ready).toBe(true);
}, 30_000);
