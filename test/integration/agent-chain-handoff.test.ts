/**
 * A chain's hand-off for agent-run tasks (DispatchStep.chainHandOff), on SQLite and Postgres: an agent's
 * report of success queues its chain's next task in the same write, launched at once instead of after a
 * tick. Through the real loop and store; the executor and its agents are a double (ScriptedAgents) that
 * registers and reports each try through the store calls the agent RPC makes, and hands the success to the
 * loop as app.ts does. Every task runs once and in order, a failure hands nothing on, nothing jumps a task
 * waiting for a slot, and a paused DAG's chain waits; with startOnHandOff (warm agents) the next task is
 * started by the end's write, and one whose launch then fails is put back before it is failed.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { guardedStore, openStore, type Store } from "../../src/store";
import { PostgresStore } from "../../src/store/postgres";
import { parseDagSpec } from "../../src/domain/schemas";
import type { TaskInstanceRecord } from "../../src/domain";
import { silentLogger } from "../../src/observability";
import { SchedulerLoop } from "../../src/scheduler/loop";
import { buildDagRun } from "../../src/scheduler/trigger";
import { describePg, freshSchemas, pgUrl } from "../support/postgres";
import { untilRunEnds } from "../support/run-end";

/**
 * A double of the subprocess executor and its agents: each launched try registers (startTry), waits for its
 * task's gate if any, and reports its outcome (finishTry) with the chain's next task the loop hands on
 * (agentHandOff, settled after the write); anything not handed on wakes the run, as the agent RPC does.
 */
class ScriptedAgents {
  readonly dispatched: string[] = [];
  running = 0;
  maxRunning = 0;
  /** The state each try was launched in (queued, or running when its upstream's end started it). */
  readonly launchedAs: string[] = [];
  readonly failing = new Set<string>();
  /** Tasks whose launch throws, as an executor that cannot start an agent. */
  readonly unlaunchable = new Set<string>();
  readonly gates = new Map<string, Promise<void>>();
  loop!: SchedulerLoop;
  constructor(private readonly store: Store) {}

  readonly dispatcher = {
    dispatch: async (ti: TaskInstanceRecord) => {
      if (this.unlaunchable.has(ti.task_id)) throw new Error("no agent could be started");
      this.launchedAs.push(ti.state);
      this.dispatched.push(`${ti.run_id}/${ti.task_id}`);
      setTimeout(() => void this.play(ti), 1);
    },
  };

  private async play(ti: TaskInstanceRecord): Promise<void> {
    const id = { id: ti.id, dag_id: ti.dag_id, run_id: ti.run_id, task_id: ti.task_id, try_number: ti.try_number };
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    await this.store.startTry({ ...id, hostname: "double", pid: 1 }, new Date());
    await this.gates.get(ti.task_id);
    this.running--;
    const to = this.failing.has(ti.task_id) ? "failed" : "success";
    // One time for the end and a start it hands on, as the agent RPC does.
    const at = new Date();
    const handOff = to === "success" ? this.loop.agentHandOff(id, at) : undefined;
    const done = await this.store.finishTry({ ...id, to, note: null, final: false, ...(handOff ? { next: handOff.next } : {}) }, at);
    if (handOff && (await handOff.settle(done?.applied === true && done.nextApplied === true))) return;
    this.loop.wake(ti.dag_run_id);
  }
}

const bash = (i: number) => ({ task_id: `t${i}`, operator: "bash", bash_command: "true", ...(i ? { upstream: [`t${i - 1}`] } : {}) });

function suite(makeStore: () => Promise<Store>) {
  let store: Store;
  let loop: SchedulerLoop | undefined;
  let agents: ScriptedAgents;
  beforeEach(async () => {
    store = await makeStore();
    await store.migrate();
  });
  afterEach(async () => {
    await loop?.stop();
    await store.close();
  });

  /** `started`: the loop starts a chain's next task with its upstream's end (startOnHandOff), as for warm agents. */
  async function setUp(n: number, parallelism = 8, started = false) {
    const spec = parseDagSpec({ dag_id: "chain", tasks: Array.from({ length: n }, (_, i) => bash(i)) });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/chain.json", pausedOnCreate: false, now: new Date() });
    agents = new ScriptedAgents(store);
    loop = new SchedulerLoop({
      store,
      dispatcher: agents.dispatcher,
      logger: silentLogger,
      sweepIntervalMs: 60_000,
      parallelism,
      ...(started ? { startOnHandOff: { accepts: () => true, hostname: "leader-1" } } : {}),
    });
    agents.loop = loop;
    const trigger = (runId: string) =>
      store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null, run_id: runId }, new Date()));
    return { trigger };
  }

  const untilDone = (runId: number) => untilRunEnds(store, runId, 5);

  const states = async (runId: string) =>
    Object.fromEntries((await store.listTaskInstances("default", "chain", runId, { limit: 100 })).items.map((t) => [t.task_id, t.state]));

  test("each next task is queued and launched by its upstream's report: every task once, in order", async () => {
    const { trigger } = await setUp(6);
    const run = await trigger("r1");
    loop!.start();
    expect((await untilDone(run.id)).state).toBe("success");
    expect(agents.dispatched).toEqual(Array.from({ length: 6 }, (_, i) => `r1/t${i}`));
    expect(loop!.handOffs).toBe(5);
    expect(Object.values(await states("r1")).every((s) => s === "success")).toBe(true);
  });

  test("started with the end: each next task runs from its upstream's end, launched running, every task once", async () => {
    const { trigger } = await setUp(5, 8, true);
    const run = await trigger("r1");
    loop!.start();
    expect((await untilDone(run.id)).state).toBe("success");
    expect(agents.dispatched).toEqual(Array.from({ length: 5 }, (_, i) => `r1/t${i}`));
    // The first by a tick (its record as the tick read it), the rest by their upstream's report, running.
    expect(agents.launchedAs).toEqual(["none", "running", "running", "running", "running"]);
    expect(loop!.handOffs).toBe(4);
    const tis = (await store.listTaskInstances("default", "chain", "r1", { limit: 100 })).items;
    const byTask = new Map(tis.map((t) => [t.task_id, t]));
    for (let i = 1; i < 5; i++) {
      const [up, ti] = [byTask.get(`t${i - 1}`)!, byTask.get(`t${i}`)!];
      expect(ti).toMatchObject({ state: "success", try_number: 1, hostname: "leader-1" });
      expect(ti.start_date).toEqual(up.end_date);
      expect(ti.queued_at).toEqual(up.end_date);
    }
  });

  test("started with the end, then its launch fails: put back and failed as a failed launch, run nowhere", async () => {
    const { trigger } = await setUp(3, 8, true);
    agents.unlaunchable.add("t1");
    const run = await trigger("r1");
    loop!.start();
    expect((await untilDone(run.id)).state).toBe("failed");
    expect(agents.dispatched).toEqual(["r1/t0"]);
    expect(await states("r1")).toEqual({ t0: "success", t1: "failed", t2: "upstream_failed" });
    const t1 = (await store.getTaskInstance("default", "chain", "r1", "t1"))!;
    // Its start undone before the launch's failure was written: it never ran anywhere.
    expect(t1.note).toStartWith("dispatch_failed: no agent could be started");
    expect([t1.start_date, t1.hostname, t1.try_number]).toEqual([null, null, 1]);
  });

  test("a task that fails hands nothing on: its downstream is upstream_failed", async () => {
    const { trigger } = await setUp(3);
    agents.failing.add("t1");
    const run = await trigger("r1");
    loop!.start();
    expect((await untilDone(run.id)).state).toBe("failed");
    expect(agents.dispatched).toEqual(["r1/t0", "r1/t1"]);
    expect(loop!.handOffs).toBe(1);
    expect(await states("r1")).toEqual({ t0: "success", t1: "failed", t2: "upstream_failed" });
  });

  test("nothing jumps a task waiting for a slot: with parallelism 1, two runs' chains take turns", async () => {
    const { trigger } = await setUp(3, 1);
    const a = await trigger("a");
    const b = await trigger("b");
    loop!.start();
    expect((await untilDone(a.id)).state).toBe("success");
    expect((await untilDone(b.id)).state).toBe("success");
    expect(agents.maxRunning).toBe(1);
    expect(agents.dispatched).toHaveLength(6);
    // The other run's task always waited for the slot: no end handed it to its own chain's next task, the tick's
    // fair order decided, and the runs took turns.
    expect(agents.dispatched).toEqual(["a/t0", "b/t0", "a/t1", "b/t1", "a/t2", "b/t2"]);
    expect(loop!.handOffs).toBe(0);
  });

  test("a paused DAG's chain waits: the report hands nothing on until it is unpaused", async () => {
    const { trigger } = await setUp(3);
    let release!: () => void;
    agents.gates.set("t0", new Promise((r) => (release = r)));
    const run = await trigger("r1");
    loop!.start();
    while (!agents.dispatched.length) await Bun.sleep(2);
    await store.setDagPaused("default", "chain", true);
    loop!.wake(run.id);
    await loop!.idle();
    release();
    await Bun.sleep(100);
    await loop!.idle();
    expect(await states("r1")).toEqual({ t0: "success", t1: "none", t2: "none" });
    expect(loop!.handOffs).toBe(0);
    await store.setDagPaused("default", "chain", false);
    loop!.wake(run.id);
    expect((await untilDone(run.id)).state).toBe("success");
    expect(agents.dispatched).toEqual(["r1/t0", "r1/t1", "r1/t2"]);
  });
}

describe("agent chain hand-off: sqlite", () => suite(async () => openStore("sqlite::memory:")));

describePg("agent chain hand-off: postgres", () => {
  const schemas = freshSchemas();
  suite(async () => guardedStore(new PostgresStore({ url: pgUrl(), schema: schemas.next(), max: 4 })));
});
