/**
 * Pro events latency: how long after a state change its event reaches an SSE client on the leader (where the
 * scheduler wrote it) and on a follower (through the shared log: append, NOTIFY, read). Two real replicas
 * (test/support/pro-cluster.ts) run RUNS runs of a 3-task bash chain one after another; for every event,
 * delay = time the client received it − the event's `time` (the `now` the writer passed, taken just before
 * its write), and the follower's lag behind the leader for the same id. Prints percentiles.
 *
 * Usage: LEOFLOW_TEST_BINARY=dist/leoflow bun scripts/benchmarks/events-latency.ts [RUNS]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProCluster } from "../../test/support/pro-cluster";
import { waitForRun, type Leoflow } from "../../test/e2e/harness";

const RUNS = Number(process.argv[2] ?? 10);
const dir = mkdtempSync(join(tmpdir(), "leoflow-events-latency-"));
const dags = join(dir, "dags");
mkdirSync(dags);
writeFileSync(
  join(dags, "lat.json"),
  JSON.stringify({
    dag_id: "lat",
    schedule: null,
    tasks: ["a", "b", "c"].map((t, i) => ({ task_id: t, operator: "bash", bash_command: "true", upstream: i ? [["a", "b"][i - 1]] : [] })),
  }),
);
const cluster = new ProCluster({ dir, names: ["leader", "follower"] });
await cluster.start(dags);
const [leader, follower] = cluster.replicas as [Leoflow, Leoflow];
const token = (
  (await (
    await fetch(`${leader.url}/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: "e2e-admin-password" }),
    })
  ).json()) as { access_token: string }
).access_token;

/** Delays (ms) of every event a stream on `lf` receives, and when it received each id. */
function listen(lf: Leoflow, delays: number[], receivedAt: Map<number, number>): AbortController {
  const ctl = new AbortController();
  void (async () => {
    const res = await fetch(`${lf.url}/api/v2/leoflow/events?dag_id=lat`, {
      headers: { authorization: `Bearer ${token}` },
      signal: ctl.signal,
    });
    const reader = res.body!.getReader();
    let text = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const at = Date.now();
        text += new TextDecoder().decode(value);
        for (const m of text.matchAll(/^data: (.*)$/gm)) {
          const e = JSON.parse(m[1]!);
          delays.push(at - Date.parse(e.time));
          receivedAt.set(e.id, at);
          if (lf === follower) order.push(e);
        }
        text = text.slice(text.lastIndexOf("\n\n") + 2);
      }
    } catch {}
  })();
  return ctl;
}

/** The follower's events in stream (id) order, to count any that came before their cause. */
const order: { id: number; run_id: string; type: string; task_id?: string; state?: string }[] = [];
const onLeader: number[] = [];
const onFollower: number[] = [];
const leaderAt = new Map<number, number>();
const followerAt = new Map<number, number>();
const streams = [listen(leader, onLeader, leaderAt), listen(follower, onFollower, followerAt)];
await Bun.sleep(500);
for (let i = 0; i < RUNS; i++) {
  await leader.api("POST", "/api/v2/dags/lat/dagRuns", { dag_run_id: `lat-${i}`, logical_date: null });
  await waitForRun(leader, "lat", `lat-${i}`);
}
await Bun.sleep(500);
for (const s of streams) s.abort();
await cluster.stop();

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
for (const [name, xs] of [
  ["leader (local)", onLeader],
  ["follower (via log)", onFollower],
] as const)
  console.log(
    `${name}: state change → SSE n=${xs.length} p50=${pct(xs, 50)} ms p90=${pct(xs, 90)} ms p99=${pct(xs, 99)} ms max=${Math.max(...xs)} ms`,
  );
const lag = [...followerAt].filter(([id]) => leaderAt.has(id)).map(([id, at]) => at - leaderAt.get(id)!);
console.log(
  `follower − leader, same event: n=${lag.length} p50=${pct(lag, 50)} ms p90=${pct(lag, 90)} ms p99=${pct(lag, 99)} ms max=${Math.max(...lag)} ms`,
);

// Causal order a user expects within a run: created, then each task scheduled → queued → running → success,
// a task's success before its downstream is scheduled, the run's end last (the scheduler itself commits the
// first task's `scheduled` in the same tick as, and before, the run's `started`: those two are not counted). Ids follow append order
// across replicas, so a change on one replica can in principle be appended after a later one on another.
const rank = (e: (typeof order)[number]) =>
  e.type === "dag_run.created"
    ? 0
    : e.type === "dag_run.started"
      ? 10
      : e.type === "dag_run.finished"
        ? 100
        : 10 + 10 * "abc".indexOf(e.task_id!) + ["scheduled", "queued", "running", "success"].indexOf(e.state!);
let inversions = 0;
for (const run of new Set(order.map((e) => e.run_id))) {
  const ranks = order.filter((e) => e.run_id === run).map(rank);
  const evs = order.filter((e) => e.run_id === run);
  ranks.forEach((r, i) => {
    if (i === 0 || r >= ranks[i - 1]!) return;
    inversions++;
    if (process.env.SHOW)
      console.log(
        `  ${run}: ${[evs[i - 1]!, evs[i]!].map((e) => `${e.id} ${e.type} ${e.task_id ?? ""} ${e.state ?? ""}`).join("  before  ")}`,
      );
  });
}
console.log(`events out of causal order on the follower: ${inversions} of ${order.length}`);
