/**
 * Fairness and quotas across teams, on a real SQLite store with the real loop and planner (issue 21). The
 * dispatcher only records what it was handed (nothing finishes unless a test says so), and the test drives
 * tick() by hand, so "within one tick" is exact: a team flooding with thousands of ready task instances
 * does not starve a small team under a small global parallelism, a team's quota leaves its tasks scheduled
 * with a note naming the quota, and inline requests are held to the team's max_inline_requests.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { DagRecord, DagRunRecord, DagSpec, TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { silentLogger } from "../../src/observability";
import { SchedulerLoop, type InlineStarter } from "../../src/scheduler";
import { buildDagRun } from "../../src/scheduler/trigger";
import { openStore, type Store } from "../../src/store";
import { FakeClock } from "../support/clock";

const FLOOD_RUNS = 6;
const FLOOD_TASKS = 500; // 6 × 500 = 3,000 ready task instances

let store: Store;
let clock: FakeClock;
beforeEach(async () => {
  store = openStore("sqlite::memory:");
  await store.migrate();
  clock = new FakeClock();
});
afterEach(async () => store.close());

/** DAG "etl" of `team` (both teams use the name) with `tasks` independent tasks of `operator`. */
async function etl(team: string, tasks: number, o: { weight?: number; operator?: "bash" | "http" } = {}): Promise<DagRecord> {
  await store.ensureTeam(team, clock.now());
  const spec = parseDagSpec({
    dag_id: "etl",
    max_active_tasks: 100_000,
    max_active_runs: 100,
    tasks: Array.from({ length: tasks }, (_, i) =>
      o.operator === "http"
        ? { task_id: `t${i}`, operator: "http", http: { url: "http://127.0.0.1:1/never" } }
        : { task_id: `t${i}`, operator: "bash", bash_command: "true", priority_weight: o.weight ?? 1 },
    ),
  });
  return store.upsertDag(team, { spec, fileloc: `/dags/${team}/etl.json`, pausedOnCreate: false, now: clock.now() });
}

const trigger = (dag: DagRecord, runId: string) =>
  store.createDagRun(buildDagRun(dag, { run_id: runId, run_type: "manual", logical_date: null }, clock.now()));

/** Records every launch; nothing runs until the test finishes it. */
class RecordingDispatcher {
  launched: TaskInstanceRecord[] = [];
  async dispatch(ti: TaskInstanceRecord, _run: DagRunRecord, _spec: DagSpec): Promise<void> {
    this.launched.push(ti);
  }
  /** Launches since the last call, as "team:task_id". */
  take(): string[] {
    return this.launched.splice(0).map((t) => `${t.team}:${t.run_id}/${t.task_id}`);
  }
}

/** Moves launched (queued) task instances to success, as their agents would. */
async function finish(tis: TaskInstanceRecord[]): Promise<void> {
  const now = clock.now();
  const up = tis.map((t) => ({ id: t.id, from: ["queued" as const], to: "running" as const, try_number: t.try_number }));
  expect(await store.applyTransitions(up, now)).toEqual(up.map(() => true));
  const done = tis.map((t) => ({ id: t.id, from: ["running" as const], to: "success" as const, try_number: t.try_number }));
  expect(await store.applyTransitions(done, now)).toEqual(done.map(() => true));
}

/** Counts the loop's reads of the teams table. */
function countingTeams() {
  const source = { reads: 0, listTeams: () => (source.reads++, store.listTeams()) };
  return source;
}

async function stateOf(team: string, runId: string): Promise<Record<string, string>> {
  const tis = (await store.listTaskInstances(team, "etl", runId, { limit: 10_000 })).items;
  const counts: Record<string, string> = {};
  for (const t of tis) counts[t.task_id] = t.state;
  return counts;
}

describe("scheduler fairness across teams", () => {
  test("a team flooding with 3,000 ready tasks does not starve a small team: its tasks are queued the tick they become ready", async () => {
    const flood = await etl("flood", FLOOD_TASKS, { weight: 100 }); // higher priority and older runs than the small team's
    const small = await etl("small", 3);
    for (let r = 0; r < FLOOD_RUNS; r++) await trigger(flood, `r${r}`);
    const dispatcher = new RecordingDispatcher();
    const loop = new SchedulerLoop({ store, dispatcher, logger: silentLogger, sweepIntervalMs: 60_000, parallelism: 8, clock });

    const first = await loop.tick();
    expect(first.dispatched).toBe(8);
    const floodQueued = dispatcher.launched.splice(0);
    expect(new Set(floodQueued.map((t) => t.team))).toEqual(new Set(["flood"]));

    // The small team's run is triggered while 2,992 flood tasks wait; three flood tasks finish meanwhile.
    clock.advance(1_000);
    const run = await trigger(small, "r0");
    await finish(floodQueued.slice(0, 3));
    loop.wake(run.id);
    for (const t of floodQueued.slice(0, 3)) loop.wake(t.dag_run_id);
    const second = await loop.tick();

    // In that one tick its three tasks went none → scheduled → queued, taking every freed slot.
    expect(second.dispatched).toBe(3);
    expect(dispatcher.take().sort()).toEqual(["small:r0/t0", "small:r0/t1", "small:r0/t2"]);
    expect(await stateOf("small", "r0")).toEqual({ t0: "queued", t1: "queued", t2: "queued" });
    const waiting = (await store.listTaskInstances("flood", "etl", "r5", { limit: 1 })).items[0];
    expect(waiting?.state).toBe("scheduled");
    expect(waiting?.note).toBe("parallelism (8) reached: 8 task instances queued or running");

    // Once the small team holds as many as the flood, freed slots alternate between the teams.
    const smallQueued = (await store.listTaskInstances("small", "etl", "r0")).items;
    const next = await trigger(small, "r1");
    await finish([...floodQueued.slice(3, 7), ...smallQueued]);
    loop.wake(next.id);
    await loop.tick();
    const third = dispatcher.take();
    expect(third).toHaveLength(7);
    expect(third.filter((t) => t.startsWith("small:"))).toHaveLength(3);
    expect(third.filter((t) => t.startsWith("flood:"))).toHaveLength(4);
  });

  test("max_running_tasks leaves the team's tasks scheduled with a note naming the quota; other teams go on", async () => {
    const flood = await etl("flood", FLOOD_TASKS);
    const small = await etl("small", 3);
    await store.updateTeam("flood", { max_running_tasks: 5 });
    for (let r = 0; r < FLOOD_RUNS; r++) await trigger(flood, `r${r}`);
    const dispatcher = new RecordingDispatcher();
    const teams = countingTeams();
    const loop = new SchedulerLoop({ store, dispatcher, logger: silentLogger, sweepIntervalMs: 60_000, parallelism: 8, clock, teams });

    expect((await loop.tick()).dispatched).toBe(5);
    const floodQueued = dispatcher.launched.splice(0);
    const held = (await store.listTaskInstances("flood", "etl", "r5", { limit: 1 })).items[0];
    expect(held?.state).toBe("scheduled");
    expect(held?.wait_reason).toBe("team_quota");
    expect(held?.note).toBe(
      "team flood reached its quota max_running_tasks=5 (5 queued or running); it waits until the team's tasks finish or an admin raises the quota",
    );

    // The small team still has parallelism room (8 - 5): its tasks are queued the tick they are ready.
    const run = await trigger(small, "r0");
    loop.wake(run.id);
    expect((await loop.tick()).dispatched).toBe(3);
    const smallQueued = dispatcher.launched.splice(0);
    expect(smallQueued.map((t) => `${t.team}:${t.task_id}`).sort()).toEqual(["small:t0", "small:t1", "small:t2"]);
    expect(teams.reads).toBe(1); // read on the sweep, not on the event-driven tick

    // Raising the quota takes effect at once when the loop is told (the teams API does), not at the next sweep.
    await finish([...floodQueued.slice(0, 2), ...smallQueued]);
    await store.updateTeam("flood", { max_running_tasks: 6 });
    loop.teamsChanged();
    await loop.tick();
    expect(teams.reads).toBe(2);
    // 3 still queued + 3 new = the new quota of 6, though parallelism (8) has room for 5.
    expect(dispatcher.take()).toHaveLength(3);
    const stillHeld = (await store.listTaskInstances("flood", "etl", "r5", { limit: 1 })).items[0];
    expect(stillHeld?.note).toBe(
      "team flood reached its quota max_running_tasks=6 (6 queued or running); it waits until the team's tasks finish or an admin raises the quota",
    );
  });

  test("max_pool_slots counts the slots the team's queued and running tasks hold", async () => {
    await store.ensureTeam("ml", clock.now());
    const spec = parseDagSpec({
      dag_id: "train",
      max_active_tasks: 100,
      tasks: Array.from({ length: 6 }, (_, i) => ({ task_id: `t${i}`, operator: "bash", bash_command: "true", pool_slots: 2 })),
    });
    const dag = await store.upsertDag("ml", { spec, fileloc: "/dags/ml/train.json", pausedOnCreate: false, now: clock.now() });
    await store.updateTeam("ml", { max_pool_slots: 7 });
    await trigger(dag, "r0");
    const dispatcher = new RecordingDispatcher();
    const loop = new SchedulerLoop({
      store,
      dispatcher,
      logger: silentLogger,
      sweepIntervalMs: 60_000,
      parallelism: 32,
      clock,
      teams: store,
    });
    expect((await loop.tick()).dispatched).toBe(3);
    const held = (await store.listTaskInstances("ml", "train", "r0")).items.filter((t) => t.state === "scheduled");
    expect(held).toHaveLength(3);
    expect(held[0]?.note).toBe(
      "team ml reached its quota max_pool_slots=7 (6 pool slots held by queued or running tasks, this task needs 2); it waits until the team's tasks finish or an admin raises the quota",
    );
  });

  test("max_inline_requests holds the team's inline http tasks at dispatch, counted from what runs in the store", async () => {
    const web = await etl("web", 5, { operator: "http" });
    await store.updateTeam("web", { max_inline_requests: 2 });
    await trigger(web, "r0");
    // Starts like the inline runner: scheduled → running with executor "inline", and nothing else.
    const started: TaskInstanceRecord[] = [];
    const inline: InlineStarter = {
      accepts: (task) => task.operator === "http",
      start: async (ti, _run, _spec, scheduling) => {
        const now = clock.now();
        const patch = { start_date: now, executor: "inline" };
        const start = { id: ti.id, from: ["scheduled" as const], to: "running" as const, try_number: ti.try_number, patch };
        await store.applyTransitions(scheduling ? [scheduling, start] : [start], now);
        started.push(ti);
        return "started";
      },
    };
    const dispatcher = new RecordingDispatcher();
    const loop = new SchedulerLoop({
      store,
      dispatcher,
      logger: silentLogger,
      sweepIntervalMs: 60_000,
      parallelism: 32,
      clock,
      teams: store,
      inline,
    });

    expect((await loop.tick()).dispatched).toBe(2);
    expect(dispatcher.launched).toEqual([]);
    const waiting = (await store.listTaskInstances("web", "etl", "r0")).items.filter((t) => t.state === "scheduled");
    expect(waiting.map((t) => t.note)).toEqual(
      Array(3).fill(
        "team web reached its quota max_inline_requests=2 (2 inline requests in flight); it waits until the team's tasks finish or an admin raises the quota",
      ),
    );

    // One request completes: exactly one more starts on the next tick.
    const [done] = started;
    if (!done) throw new Error("nothing started");
    await store.applyTransitions([{ id: done.id, from: ["running"], to: "success", try_number: done.try_number }], clock.now());
    loop.wake(done.dag_run_id);
    expect((await loop.tick()).dispatched).toBe(1);
    expect(started).toHaveLength(3);
  });
});
