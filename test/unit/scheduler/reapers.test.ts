/**
 * The reapers as timelines: a real (in-memory) store, the real loop and planner, an injected clock and a
 * stand-in agent, so a 5-minute threshold passes in microseconds. Every tick here is a full sweep.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { DagSpec, DagRunRecord, TaskInstanceRecord, TaskReap } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { openStore, type Store } from "../../../src/store";
import { Reapers, SchedulerLoop, buildDagRun, reapNotes, type ReaperThresholds } from "../../../src/scheduler";
import { Metrics, silentLogger, type Logger } from "../../../src/observability";

const T0 = new Date("2026-01-01T00:00:00Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const THRESHOLDS: ReaperThresholds = { agentLostAfterMs: 60_000, dispatchLostAfterMs: 300_000, orphanAfterMs: 600_000 };

/** What the stand-in agent does with each (task, try): register and go silent, never register, or succeed. */
type Behaviour = "silent" | "never_registers" | "succeeds";

class StandInAgent {
  launched: string[] = [];
  constructor(
    private store: Store,
    private clock: () => Date,
    private behaviour: (ti: TaskInstanceRecord) => Behaviour,
  ) {}
  async dispatch(ti: TaskInstanceRecord, _run: DagRunRecord, _spec: DagSpec): Promise<void> {
    this.launched.push(`${ti.task_id}#${ti.try_number}`);
    const b = this.behaviour(ti);
    if (b === "never_registers") return;
    const now = this.clock();
    await this.store.applyTransitions(
      [{ id: ti.id, from: ["queued"], to: "running", try_number: ti.try_number, patch: { start_date: now, last_heartbeat: now } }],
      now,
    );
    if (b === "succeeds")
      await this.store.applyTransitions(
        [{ id: ti.id, from: ["running"], to: "success", try_number: ti.try_number, patch: { end_date: now } }],
        now,
      );
  }
}

let store: Store;
let now: Date;
let logged: string[];
const logger: Logger = { ...silentLogger, warn: (m, f) => logged.push(`${m} ${String(f?.note ?? "")}`), child: () => logger };

beforeEach(async () => {
  store = openStore("sqlite::memory:");
  await store.migrate();
  now = T0;
  logged = [];
});
afterEach(async () => store.close());

async function setup(
  tasks: object[],
  behaviour: (ti: TaskInstanceRecord) => Behaviour,
  onTaskReaped?: (t: { id: number; try_number: number }) => void,
  // The thresholds are held exactly by sweeps a second apart, so the reapers read on every one; null: their own pace.
  everyMs: number | null = 0,
) {
  const spec = parseDagSpec({ dag_id: "reap", tasks });
  const dag = await store.upsertDag("default", { spec, fileloc: "/dags/reap.json", pausedOnCreate: false, now: T0 });
  const agent = new StandInAgent(store, () => now, behaviour);
  const metrics = new Metrics();
  const reaped = metrics.counter("leoflow_reaped_total", "reaped", ["reason"]);
  const reapers = new Reapers({ store, logger, thresholds: THRESHOLDS, reaped, onTaskReaped, everyMs: everyMs ?? undefined });
  const loop = new SchedulerLoop({
    store,
    dispatcher: agent,
    logger: silentLogger,
    sweepIntervalMs: 60_000,
    parallelism: 8,
    reaper: reapers,
    now: () => now,
  });
  const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, T0));
  /** Full sweeps at time `s` until nothing changes. */
  const sweepAt = async (s: number) => {
    now = at(s);
    for (let i = 0; i < 10; i++) {
      loop.wake();
      const r = await loop.tick();
      if (!r.transitions && !r.dispatched) break;
    }
  };
  const ti = async (taskId: string) => (await store.getTaskInstance("default", "reap", run.run_id, taskId))!;
  const runState = async () => (await store.getDagRunById(run.id))!;
  return { agent, reaped, sweepAt, ti, runState, run };
}

const task = (task_id: string, extra: object = {}) => ({ task_id, operator: "bash", bash_command: "true", ...extra });

describe("a reaped try is handed to the executors to stop", () => {
  test("agent_lost: the silent try (not its retry) is named once", async () => {
    const stopped: string[] = [];
    const { sweepAt, ti } = await setup(
      [task("a", { retries: 1, retry_delay: 0 })],
      (t) => (t.try_number === 1 ? "silent" : "succeeds"),
      (t) => stopped.push(`${t.id}#${t.try_number}`),
    );
    await sweepAt(0);
    await sweepAt(61);
    await sweepAt(62);
    const a = await ti("a");
    expect([a.state, a.try_number]).toEqual(["success", 2]);
    expect(stopped).toEqual([`${a.id}#1`]);
  });
});

describe("agent_lost", () => {
  test("a silent agent is reaped past the threshold, not before; the retry then succeeds", async () => {
    const { agent, reaped, sweepAt, ti, runState } = await setup([task("a", { retries: 1, retry_delay: 0 })], (t) =>
      t.try_number === 1 ? "silent" : "succeeds",
    );
    await sweepAt(0);
    expect([(await ti("a")).state, agent.launched]).toEqual(["running", ["a#1"]]);
    await sweepAt(60); // exactly at the threshold: alive
    expect((await ti("a")).state).toBe("running");
    await sweepAt(61);
    const a = await ti("a");
    expect([a.state, a.try_number, (await runState()).state]).toEqual(["success", 2, "success"]);
    expect(agent.launched).toEqual(["a#1", "a#2"]);
    expect(reaped.get({ reason: "agent_lost" })).toBe(1);
    expect(logged).toEqual([`reaped a task instance: agent_lost ${reapNotes.agentLost(T0, 60_000)}`]);
  });

  test("a reaped try with retries left is written up_for_retry at once (no reader sees it failed), the last one failed", async () => {
    // What each reap asks the store to write (a proxy in front of the store, as the store's own decorators are).
    const written: string[] = [];
    const guarded = store;
    store = new Proxy(guarded, {
      get: (target, prop) =>
        prop === "reapTaskInstances"
          ? (reaps: TaskReap[], when: Date) => {
              written.push(...reaps.map((r) => `#${r.try_number} ${r.from} → ${r.to}`));
              return target.reapTaskInstances(reaps, when);
            }
          : Reflect.get(target, prop),
    });
    const { sweepAt, ti, runState } = await setup([task("a", { retries: 1, retry_delay: 0 })], () => "silent");
    await sweepAt(0);
    await sweepAt(61);
    expect((await ti("a")).try_number).toBe(2);
    await sweepAt(122);
    expect(written).toEqual(["#1 running → up_for_retry", "#2 running → failed"]);
    expect([(await ti("a")).state, (await runState()).state]).toEqual(["failed", "failed"]);
    store = guarded;
  });

  test("the reapers read every 10 s with the default thresholds, not on every sweep: a silent agent is reaped at the first read past its threshold", async () => {
    const reads: number[] = [];
    const listAgentLostCandidates = store.listAgentLostCandidates.bind(store);
    store.listAgentLostCandidates = async () => (reads.push(now.getTime()), listAgentLostCandidates());
    const { sweepAt, ti } = await setup([task("a")], () => "silent", undefined, null);
    for (const s of [0, 1, 2, 9, 10, 55, 61, 64]) await sweepAt(s);
    expect(reads.map((ms) => (ms - T0.getTime()) / 1000)).toEqual([0, 10, 55]);
    expect((await ti("a")).state).toBe("running"); // 61 s silent, but no read since 55
    await sweepAt(65);
    expect((await ti("a")).state).toBe("failed");
    expect((await ti("a")).note).toStartWith("agent_lost:");
  });

  test("a server that starts after its agents went quiet gives their tries a full threshold: a restart is not their silence", async () => {
    // The try's agent heartbeated at 0, then the server was down until 300 s (its agent retried meanwhile).
    const { sweepAt, ti } = await setup([task("a")], () => "silent");
    await sweepAt(0);
    const restarted = new Reapers({ store, logger, thresholds: THRESHOLDS, everyMs: 0 });
    expect(await restarted.reap(at(300))).toEqual([]); // 300 s silent, but this server watched none of it
    expect(await restarted.reap(at(360))).toEqual([]);
    expect((await ti("a")).state).toBe("running");
    expect((await restarted.reap(at(361))).length).toBe(1);
    expect((await ti("a")).note).toBe(reapNotes.agentLost(T0, 60_000)); // the note still says when it was last heard
  });

  test("without retries the task and the run fail with the agent_lost note", async () => {
    const { sweepAt, ti, runState } = await setup([task("a")], () => "silent");
    await sweepAt(0);
    await sweepAt(3600);
    const a = await ti("a");
    expect(a.state).toBe("failed");
    expect(a.note).toStartWith("agent_lost: no heartbeat since 2026-01-01T00:00:00.000Z (threshold 60s)");
    expect((await runState()).state).toBe("failed");
  });

  test("a heartbeat keeps a long task alive", async () => {
    const { sweepAt, ti } = await setup([task("a")], () => "silent");
    await sweepAt(0);
    for (let s = 50; s <= 500; s += 50) {
      await store.heartbeat((await ti("a")).id, 1, at(s));
      await sweepAt(s + 55);
    }
    expect((await ti("a")).state).toBe("running");
  });
});

describe("dispatch_lost", () => {
  test("a launch no agent ever claims is reaped after 300 s and retried", async () => {
    const { agent, reaped, sweepAt, ti, runState } = await setup([task("a", { retries: 2, retry_delay: 0 })], (t) =>
      t.try_number === 1 ? "never_registers" : "succeeds",
    );
    await sweepAt(0);
    expect((await ti("a")).state).toBe("queued");
    await sweepAt(300);
    expect((await ti("a")).state).toBe("queued");
    await sweepAt(301);
    expect([(await ti("a")).state, (await ti("a")).try_number, (await runState()).state]).toEqual(["success", 2, "success"]);
    expect(agent.launched).toEqual(["a#1", "a#2"]);
    expect(reaped.get({ reason: "dispatch_lost" })).toBe(1);
  });
});

describe("orphaned", () => {
  test("a running run nothing moves fails after the threshold with its waiting task instances", async () => {
    // No loop here: the planner would move `none` task instances; an orphan is what nothing moves.
    const spec = parseDagSpec({ dag_id: "orph", tasks: [task("a"), task("b", { upstream: ["a"] })] });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/orph.json", pausedOnCreate: false, now: T0 });
    const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, T0));
    await store.setDagRunState(run.id, ["queued"], "running", at(10));
    const metrics = new Metrics();
    const reaped = metrics.counter("leoflow_reaped_total", "reaped", ["reason"]);
    const reapers = new Reapers({ store, logger, thresholds: THRESHOLDS, reaped, everyMs: 0 }); // a read per call
    expect(await reapers.reap(at(10))).toEqual([]); // the server's first sweep: silence counts from here
    expect(await reapers.reap(at(610))).toEqual([]);
    expect(await reapers.reap(at(611))).toEqual([run.id]);
    expect(await reapers.reap(at(612))).toEqual([]); // idempotent
    const after = (await store.getDagRunById(run.id))!;
    expect([after.state, after.note]).toEqual(["failed", reapNotes.orphaned(at(10), 600_000)]);
    const states = (await store.listTaskInstances("default", "orph", run.run_id)).items.map((t) => [t.task_id, t.state]);
    expect(states).toEqual([
      ["a", "failed"],
      ["b", "failed"],
    ]);
    expect(reaped.get({ reason: "orphaned" })).toBe(1);
  });

  test("a run waiting on a long retry delay is not orphaned", async () => {
    const { sweepAt, runState, ti } = await setup([task("a", { retries: 1, retry_delay: 3600 })], () => "silent");
    await sweepAt(0);
    await sweepAt(61); // agent_lost → up_for_retry for an hour
    expect((await ti("a")).state).toBe("up_for_retry");
    await sweepAt(61 + 700);
    expect((await runState()).state).toBe("running");
  });
});
