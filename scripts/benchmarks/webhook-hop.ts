/**
 * Webhooks and the scheduler's hop (issue 20): the chain workload's per-hop latency (downstream start −
 * upstream end, inline http tasks) with no webhook, and with an enabled webhook wanting every event whose
 * receiver is stuck (accepts the connection, never answers). Trials alternate between the two on one server,
 * so both see the same machine load; the outbox rows are written in each transition's transaction, and the
 * stuck deliveries hold only the delivery worker's slots. Prints median and p90 per variant.
 *
 * Usage: LEOFLOW_BENCH_BINARY=dist/leoflow bun scripts/benchmarks/webhook-hop.ts [TRIALS] [CHAIN]
 */
import postgres from "postgres";
import { chainDag } from "./workloads/chain";
import { noopServer, removeDir, runToEnd, startLeoflow, tempDir, variants, waitForDags, writeDags } from "./lib/leoflow";

const TRIALS = Number(process.argv[2] ?? 6);
const CHAIN = Number(process.argv[3] ?? 10);
const PG = process.env.LEOFLOW_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

const stuck = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Promise<Response>(() => {}) });
const noop = noopServer();
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const schemas: string[] = [];
const schema = () => (schemas.push(`bench_webhook_${process.pid}_${schemas.length}`), schemas.at(-1)!);
const chosen = variants({ url: PG, schema }).filter((v) => v.label !== "lite postgres");

for (const variant of chosen) {
  const dir = tempDir("webhook-hop");
  writeDags(dir, [chainDag("http", CHAIN, noop.base)]);
  const lf = await startLeoflow({ dir, variant });
  try {
    await waitForDags(lf, ["bench_chain_http"]);
    const hook = await lf.api("POST", "/api/v2/leoflow/webhooks", {
      url: `http://127.0.0.1:${stuck.port}/`,
      event_types: ["*"],
      secret: "bench-secret-0123456789",
      enabled: false,
    });
    const hops = { off: [] as number[], on: [] as number[] };
    for (let t = 0; t <= 2 * TRIALS; t++) {
      const on = t % 2 === 1;
      await lf.api("PATCH", `/api/v2/leoflow/webhooks/${hook.body.id}`, { enabled: on });
      const { tis } = await runToEnd(lf, "bench_chain_http", `trial-${t}`);
      if (t === 0) continue; // warm-up
      const byIndex = tis.sort((a, b) => Number(a.task_id.slice(1)) - Number(b.task_id.slice(1)));
      for (let i = 1; i < byIndex.length; i++)
        hops[on ? "on" : "off"].push(Date.parse(byIndex[i].start_date) - Date.parse(byIndex[i - 1].end_date));
    }
    const pending = (await lf.api("GET", `/api/v2/leoflow/webhooks/${hook.body.id}/deliveries?state=pending&limit=1`)).body.total_entries;
    for (const [k, xs] of Object.entries(hops))
      console.log(
        `${variant.label} · webhook ${k === "on" ? "on, stuck receiver" : "off"}: hop median ${pct(xs, 0.5)} ms, p90 ${pct(xs, 0.9)} ms (n=${xs.length})`,
      );
    console.log(`${variant.label}: ${pending} deliveries still pending behind the stuck receiver`);
  } finally {
    await lf.stop();
    removeDir(dir);
  }
}
stuck.stop(true);
noop.stop();
const sql = postgres(PG, { onnotice: () => {} });
for (const s of schemas) await sql.unsafe(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
await sql.end();
