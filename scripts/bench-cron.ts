/**
 * bench-cron: cron lateness. Runs the real SchedulerLoop + CronRunCreator on a SQLite file with a DAG
 * scheduled every second (`* * * * * *`, catchup=false), an agent stand-in that finishes each task at once,
 * and measures, for each scheduled run, the wall time from its slot (data_interval_end) to the moment its
 * row was committed. Prints p50/p99/max; `--out FILE` also writes JSON.
 *
 * Usage: bun scripts/bench-cron.ts [--runs 200] [--sweep 5] [--out bench-cron.json]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseDagSpec } from "../src/domain";
import { silentLogger } from "../src/observability";
import { CronRunCreator, SchedulerLoop } from "../src/scheduler";
import { SqliteStore, type NewDagRun, type TaskInstanceRecord } from "../src/store";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "200" },
    sweep: { type: "string", default: "5" },
    out: { type: "string" },
  },
});
const RUNS = Number(args.runs);

const dir = mkdtempSync(join(tmpdir(), "leoflow-bench-cron-"));
const store = new SqliteStore({ path: join(dir, "bench.db") });
await store.migrate();
const spec = parseDagSpec({
  dag_id: "every_second",
  schedule: "* * * * * *",
  catchup: false,
  max_active_runs: 16,
  tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }],
});
await store.upsertDag({ spec, fileloc: "/bench/every_second.json", pausedOnCreate: false, now: new Date() });

const lateness: number[] = [];
let created = 0;
let done: () => void;
const finished = new Promise<void>((r) => (done = r));
const createDagRun = store.createDagRun.bind(store);
store.createDagRun = async (input: NewDagRun) => {
  const run = await createDagRun(input);
  // The first run is the slot that ended before the loop started (catchup=false): not lateness, skip it.
  if (++created > 1) lateness.push(Date.now() - input.data_interval_end!.getTime());
  if (lateness.length >= RUNS) done();
  return run;
};

let loop: SchedulerLoop;
const agent = {
  async dispatch(ti: TaskInstanceRecord) {
    const now = new Date();
    await store.applyTransitions([{ id: ti.id, from: ["queued"], to: "running", try_number: ti.try_number }], now);
    await store.applyTransitions([{ id: ti.id, from: ["running"], to: "success", try_number: ti.try_number }], now);
    queueMicrotask(() => loop.wake(ti.dag_run_id));
  },
};
loop = new SchedulerLoop({
  store,
  dispatcher: agent,
  logger: silentLogger,
  sweepIntervalMs: Number(args.sweep) * 1000,
  parallelism: 32,
  runCreator: new CronRunCreator({ store, logger: silentLogger }),
});
loop.start();
await finished;
await loop.stop();
await store.close();
rmSync(dir, { recursive: true, force: true });

const sorted = [...lateness].sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const result = { runs: sorted.length, p50_ms: pct(50), p99_ms: pct(99), max_ms: sorted.at(-1)!, min_ms: sorted[0]! };
console.log("cron lateness (slot end → run committed), per-second schedule, SQLite file");
console.table([result]);
if (args.out) writeFileSync(args.out, JSON.stringify(result, null, 2) + "\n");
