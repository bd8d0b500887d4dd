/**
 * Refill's pure rules (scheduler/refill.ts): which waiting task may take a freed inline slot, how a tick counts
 * refills its read may not see, and the refill queue selectDispatchable builds (its fair order continued).
 */
import { describe, expect, test } from "bun:test";
import {
  TRIGGER_RULES,
  evaluateTriggerRule,
  renderWaitReason,
  type DagSpec,
  type TaskInstanceRecord,
  type TaskState,
  type TaskTransition,
  type WaitReason,
} from "../../../src/domain";
import type { TaskDispatcher } from "../../../src/dispatch";
import { silentLogger } from "../../../src/observability";
import { DispatchStep, type DispatchStore } from "../../../src/scheduler/dispatch-step";
import { fairOrder, selectDispatchable, type DispatchCandidate } from "../../../src/scheduler/capacity";
import {
  cannotTakeFreedSlot,
  chainSuccessor,
  freedTeamGoesFirst,
  mayRefill,
  successNeedsNoPlan,
  withinLimits,
  withRefills,
  type FreedSlot,
} from "../../../src/scheduler/refill";
import { at, dag, run, tis } from "./helpers";
import { seededRandom } from "../../support/seeded-random";

const ti = (over: Partial<TaskInstanceRecord> = {}): TaskInstanceRecord =>
  ({
    id: 1,
    team: "default",
    dag_id: "fan",
    run_id: "r",
    task_id: "t1",
    map_index: -1,
    pool: "default_pool",
    pool_slots: 1,
    priority_weight: 1,
    state: "scheduled",
    ...over,
  }) as TaskInstanceRecord;

const freed: FreedSlot = { team: "default", dag_id: "fan", task_id: "t0", pool: "default_pool", pool_slots: 1 };

/** An http task of a test DAG. */
const http = (task_id: string, extra: Record<string, unknown> = {}) => ({
  task_id,
  operator: "http",
  http: { url: `http://x/${task_id}` },
  ...extra,
});

/** A store whose capacity read sees nothing queued or running (an end already applied) and whose writes all apply. */
function idleCapacity(pool = { slots: 128, running_slots: 0 }): DispatchStore {
  return {
    countActiveTaskInstances: async () => ({ byDag: new Map(), byTeam: new Map() }),
    countActiveByTask: async () => [],
    listPoolUsage: async () => [
      {
        team: "default",
        name: "default_pool",
        description: null,
        include_deferred: false,
        ...pool,
        queued_slots: 0,
        scheduled_slots: 1,
        deferred_slots: 0,
      },
    ],
    applyTransitions: async (ts: TaskTransition[]) => ts.map(() => true),
  };
}

/** A dispatch step at parallelism 1 that starts every candidate with `inline`. */
function inlineStep(inline: NonNullable<ConstructorParameters<typeof DispatchStep>[0]["inline"]>, store = idleCapacity()): DispatchStep {
  return new DispatchStep({
    store,
    dispatcher: { dispatch: async () => {} } as unknown as TaskDispatcher,
    logger: silentLogger,
    parallelism: 1,
    inline,
    wake: () => {},
    wakeAt: () => {},
    checkpoint: () => {},
  });
}
const cand = (over: Partial<TaskInstanceRecord> = {}, extra: Partial<DispatchCandidate> = {}): DispatchCandidate => ({
  ti: ti(over),
  runQueuedAt: at(0),
  maxActiveTasks: 32,
  inline: true,
  ...extra,
});

describe("mayRefill: a swap that moves no count", () => {
  test.each<[string, DispatchCandidate, boolean, boolean]>([
    ["same team, DAG and pool, inline, scheduled", cand(), false, true],
    ["its run is held (a pause)", cand(), true, false],
    ["not inline (an agent task: the tick launches those)", cand({}, { inline: false }), false, false],
    ["no longer scheduled", cand({ state: "running" }), false, false],
    ["another team (its quotas would move)", cand({ team: "other" }), false, false],
    ["another DAG (max_active_tasks would move)", cand({ dag_id: "other" }), false, false],
    ["another pool", cand({ pool: "gpu" }), false, false],
    ["more pool slots", cand({ pool_slots: 2 }), false, false],
    ["pool_slots 0 counts as 1, as the pools do", cand({ pool_slots: 0 }), false, true],
    ["max_active_tis_per_dag on another task", cand({}, { maxActiveTisPerDag: 4 }), false, false],
    ["max_active_tis_per_dag on the same task (mapped)", cand({ task_id: "t0", map_index: 3 }, { maxActiveTisPerDag: 4 }), false, true],
  ])("%s", (_, head, held, expected) => {
    expect(mayRefill(freed, head, held)).toBe(expected);
  });
});

describe("withinLimits: a swap only keeps counts, so it waits while one is over its limit", () => {
  const base = {
    parallelism: 32,
    running: 10,
    runningByDag: new Map([["default/fan", 10]]),
    poolOpenSlots: new Map([["default/default_pool", 0]]),
    teamQuotas: new Map([["default", { max_running_tasks: 10, max_pool_slots: 10, max_inline_requests: 10 }]]),
    teamUsage: new Map([["default", { tasks: 10, pool_slots: 10, inline: 10 }]]),
    runningByTask: new Map([["default/fan\u0000t1", 2]]),
  };
  test.each<[string, Record<string, unknown>, Partial<DispatchCandidate>, boolean]>([
    ["every count at its limit (a swap keeps it there)", {}, { maxActiveTisPerDag: 2 }, true],
    ["the DAG over max_active_tasks", { runningByDag: new Map([["default/fan", 11]]) }, { maxActiveTasks: 10 }, false],
    ["the pool shrunk below its occupied slots", { poolOpenSlots: new Map([["default/default_pool", -1]]) }, {}, false],
    ["the pool gone", { poolOpenSlots: new Map() }, {}, false],
    ["the team over max_running_tasks", { teamUsage: new Map([["default", { tasks: 11, pool_slots: 10, inline: 10 }]]) }, {}, false],
    ["the team over max_pool_slots", { teamUsage: new Map([["default", { tasks: 10, pool_slots: 11, inline: 10 }]]) }, {}, false],
    ["the team over max_inline_requests", { teamUsage: new Map([["default", { tasks: 10, pool_slots: 10, inline: 11 }]]) }, {}, false],
    ["the task over max_active_tis_per_dag", {}, { maxActiveTisPerDag: 1 }, false],
  ])("%s", (_, over, extra, expected) => {
    expect(withinLimits(cand({}, extra), { ...base, ...over })).toBe(expected);
  });
});

describe("withRefills: refills a read may not see count as running", () => {
  const limits = {
    parallelism: 32,
    running: 30,
    runningByDag: new Map([["default/fan", 30]]),
    poolOpenSlots: new Map([["default/default_pool", 98]]),
    teamUsage: new Map([["default", { tasks: 30, pool_slots: 30, inline: 30 }]]),
    runningByTask: new Map<string, number>(),
  };

  test("each count is raised by the refills", () => {
    const out = withRefills(limits, [cand(), cand({ id: 2, task_id: "t2" }, { maxActiveTisPerDag: 3 })]);
    expect(out.running).toBe(32);
    expect(out.runningByDag.get("default/fan")).toBe(32);
    expect(out.poolOpenSlots!.get("default/default_pool")).toBe(96);
    expect(out.teamUsage!.get("default")).toEqual({ tasks: 32, pool_slots: 32, inline: 32 });
    expect(out.runningByTask!.get("default/fan\u0000t2")).toBe(1);
    expect(limits.running).toBe(30); // not changed in place
  });

  test("parallelism's count stops at the limit (the waiting note stays the same), and one already over stays", () => {
    const many = Array.from({ length: 5 }, (_, i) => cand({ id: i + 1 }));
    expect(withRefills(limits, many).running).toBe(32);
    expect(withRefills({ ...limits, running: 35 }, many).running).toBe(35);
    expect(withRefills(limits, [])).toBe(limits);
  });
});

describe("selectDispatchable's refill queue (`next`)", () => {
  /** Candidates of three teams with no other limit than parallelism: the fair order alone decides. */
  function candidates(seed: number, n: number): DispatchCandidate[] {
    const r = seededRandom(seed).int;
    return Array.from({ length: n }, (_, i) =>
      cand({ id: i + 1, team: ["a", "b", "c"][r(3)]!, task_id: `t${r(40)}_${i}`, priority_weight: 1 + r(3) }, { runQueuedAt: at(r(4)) }),
    );
  }

  test("500 random sets: `next` is the fair order continued past what was dispatched, from free slots or none", () => {
    for (let seed = 1; seed <= 500; seed++) {
      const r = seededRandom(seed * 7).int;
      const cs = candidates(seed, 1 + r(80));
      const parallelism = 1 + r(20);
      const running = r(parallelism + 3);
      const teamUsage = new Map([["b", { tasks: r(5), pool_slots: 0, inline: 0 }]]);
      const lookahead = 1 + r(30);
      const { dispatch, next } = selectDispatchable(cs, { parallelism, running, runningByDag: new Map(), teamUsage }, lookahead);
      const order = fairOrder(cs, teamUsage).map((c) => c.ti.id);
      expect(dispatch.map((c) => c.ti.id)).toEqual(order.slice(0, dispatch.length));
      expect(next.map((c) => c.ti.id)).toEqual(order.slice(dispatch.length, dispatch.length + lookahead));
    }
  });

  test("without lookahead there is none, and at parallelism the waiting notes are unchanged by asking for it", () => {
    const cs = candidates(3, 50);
    const full = { parallelism: 8, running: 8, runningByDag: new Map() };
    expect(selectDispatchable(cs, full).next).toEqual([]);
    const asked = selectDispatchable(cs, full, 10);
    expect(asked.next).toHaveLength(10);
    expect(new Set(asked.waiting.map((w) => w.candidate.ti.id))).toEqual(new Set(cs.map((c) => c.ti.id)));
    expect(new Set(asked.waiting.map((w) => renderWaitReason(w.reason)))).toEqual(
      new Set(["parallelism (8) reached: 8 task instances queued or running"]),
    );
  });

  test("500 random sets limited by their teams' pools: `next` is every candidate left waiting, in fair order", () => {
    for (let seed = 1; seed <= 500; seed++) {
      const r = seededRandom(seed * 11).int;
      const cs = candidates(seed, 1 + r(80));
      // Each team's default_pool (pools are per team) with a few slots open, or none.
      const open = new Map(["a", "b", "c"].map((t) => [t, r(12)]));
      const teamUsage = new Map([["c", { tasks: r(5), pool_slots: 0, inline: 0 }]]);
      const lookahead = 1 + r(30);
      const limits = {
        parallelism: 1_000,
        running: r(100),
        runningByDag: new Map(),
        teamUsage,
        poolOpenSlots: new Map([...open].map(([t, n]) => [`${t}/default_pool`, n])),
        poolTotalSlots: new Map([...open].map(([t]) => [`${t}/default_pool`, 128])),
      };
      const { dispatch, waiting, next } = selectDispatchable(cs, limits, lookahead);
      // What a tick takes: each candidate in fair order whose team's pool still has a slot.
      const left = new Map(open);
      const taken: number[] = [];
      const notTaken: number[] = [];
      for (const c of fairOrder(cs, teamUsage)) {
        const n = left.get(c.ti.team)!;
        if (n > 0) left.set(c.ti.team, n - 1), taken.push(c.ti.id);
        else notTaken.push(c.ti.id);
      }
      expect(dispatch.map((c) => c.ti.id)).toEqual(taken);
      expect(waiting.every((w) => w.reason.kind === "pool_full")).toBe(true);
      expect(next.map((c) => c.ti.id)).toEqual(notTaken.slice(0, lookahead));
    }
  });

  test("500 random sets under every limit: `next` is every candidate left waiting, in fair order", () => {
    for (let seed = 1; seed <= 500; seed++) {
      const r = seededRandom(seed * 13).int;
      const cs = Array.from({ length: 1 + r(60) }, (_, i) =>
        cand(
          {
            id: i + 1,
            team: ["a", "b"][r(2)]!,
            dag_id: ["d1", "d2", "d3"][r(3)]!,
            pool: ["p", "q"][r(2)]!,
            task_id: `t${i}`,
            priority_weight: 1 + r(3),
          },
          { runQueuedAt: at(r(4)), maxActiveTasks: 1 + r(8) },
        ),
      );
      const pools = new Map<string, number>();
      for (const t of ["a", "b"]) for (const p of ["p", "q"]) pools.set(`${t}/${p}`, r(10));
      const limits = {
        parallelism: 1 + r(40),
        running: r(10),
        runningByDag: new Map([
          ["a/d1", r(4)],
          ["b/d2", r(4)],
        ]),
        poolOpenSlots: pools,
        teamUsage: new Map([["b", { tasks: r(6), pool_slots: 0, inline: 0 }]]),
        teamQuotas: new Map([["a", { max_running_tasks: 5 + r(10), max_pool_slots: null, max_inline_requests: null }]]),
      };
      const lookahead = 1 + r(70);
      const { dispatch, waiting, next } = selectDispatchable(cs, limits, lookahead);
      const taken = new Set(dispatch.map((c) => c.ti.id));
      const left = fairOrder(cs, limits.teamUsage).filter((c) => !taken.has(c.ti.id));
      expect(next.map((c) => c.ti.id)).toEqual(left.slice(0, lookahead).map((c) => c.ti.id));
      expect(waiting).toHaveLength(left.length);
    }
  });

  test("a task that waited for another limit first heads the queue: its own kind of slot decides (a pool's here)", () => {
    const cs = [
      cand({ id: 1, pool: "gpu", priority_weight: 9 }),
      ...Array.from({ length: 5 }, (_, i) => cand({ id: i + 2, task_id: `t${i}` })),
    ];
    const limits = {
      parallelism: 3,
      running: 0,
      runningByDag: new Map(),
      poolOpenSlots: new Map([
        ["default/gpu", 0],
        ["default/default_pool", 100],
      ]),
    };
    const sel = selectDispatchable(cs, limits, 10);
    expect(sel.dispatch.map((c) => c.ti.id)).toEqual([2, 3, 4]);
    // A default_pool slot freed next is not the gpu task's (mayRefill), so refilling stops there for a tick.
    expect(sel.next.map((c) => c.ti.id)).toEqual([1, 5, 6]);
  });

  test("a DAG at its max_active_tasks beside a full pool: the queue holds both, in fair order", () => {
    const cs = [
      cand({ id: 1, dag_id: "busy", priority_weight: 9 }, { maxActiveTasks: 2 }),
      ...Array.from({ length: 5 }, (_, i) => cand({ id: i + 2, task_id: `t${i}` })),
    ];
    const limits = {
      parallelism: 100,
      running: 4,
      runningByDag: new Map([["default/busy", 2]]),
      poolOpenSlots: new Map([["default/default_pool", 1]]),
    };
    const sel = selectDispatchable(cs, limits, 10);
    expect(sel.dispatch.map((c) => c.ti.id)).toEqual([2]);
    expect(new Set(sel.waiting.map((w) => w.reason.kind))).toEqual(new Set(["max_active_tasks", "pool_full"]));
    expect(sel.next.map((c) => c.ti.id)).toEqual([1, 3, 4, 5, 6]);
  });
});

describe("DispatchStep: a freed inline slot goes to one task, by a refill or by a tick, never both", () => {
  const spec = dag([http("a"), http("b")]);

  function setUp(pool = { slots: 128, running_slots: 0 }) {
    const started: string[] = [];
    const inline = {
      accepts: () => true,
      start: async (t: TaskInstanceRecord) => (started.push(t.task_id), "started" as const),
    };
    // The read sees a's end already applied: nothing queued or running.
    const d = inlineStep(inline, idleCapacity(pool));
    const rows = tis(spec, { a: "running", b: "scheduled" });
    const planned = [{ snap: { run: run(), tis: rows }, spec }];
    const tick = (now: Date) => d.run(planned, new Map(), { has: () => false }, now, []);
    return { d, started, rows, tick };
  }

  test("while a's end is being written the tick leaves its slot alone; freed, the slot goes to b at once", async () => {
    const { d, started, rows, tick } = setUp();
    const a = rows.find((t) => t.task_id === "a")!;
    d.ending(a, spec);
    expect(await tick(at(1))).toBe(0); // its read saw a ended, but a's slot is the refill's
    expect(started).toEqual([]);
    expect(await d.handOver(a, true, { has: () => false }, true, false).refilled).toBe(true);
    expect(started).toEqual(["b"]);
  });

  test("a slot whose end did not apply, or freed while the loop is stopped, is not refilled", async () => {
    const { d, started, rows, tick } = setUp();
    const a = rows.find((t) => t.task_id === "a")!;
    d.ending(a, spec);
    await tick(at(1));
    expect(await d.handOver(a, false, { has: () => false }, true, false).refilled).toBe(false);
    expect(await d.handOver(a, true, { has: () => false }, false, false).refilled).toBe(false);
    expect(started).toEqual([]);
    expect(await tick(at(2))).toBe(1); // the tick takes it instead
    expect(started).toEqual(["b"]);
  });

  test("a pool shrunk below its occupied slots while every slot is taken: the freed slot is not refilled", async () => {
    const { d, started, rows, tick } = setUp({ slots: 0, running_slots: 1 });
    const a = rows.find((t) => t.task_id === "a")!;
    d.ending(a, spec);
    await tick(at(1)); // every slot taken: b waits for parallelism, and the pool is over
    expect(await d.handOver(a, true, { has: () => false }, true, false).refilled).toBe(false);
    expect(started).toEqual([]);
  });

  test("a refill started after the tick's read counts as running for that tick", async () => {
    const { d, started, rows, tick } = setUp();
    const a = rows.find((t) => t.task_id === "a")!;
    d.ending(a, spec);
    await tick(at(1)); // builds the refill queue: [b]
    const now = at(2);
    d.prefetchCapacity(now); // the next tick's read, sent before the refill below was written: it may miss it
    expect(await d.handOver(a, true, { has: () => false }, true, false).refilled).toBe(true);
    expect(await tick(now)).toBe(0); // b (its snapshot still says scheduled) is not started twice, nor is another
    expect(started).toEqual(["b"]);
  });
});

/**
 * A store whose capacity read sees, per team, `held()` task instances queued or running in DAG etl, each in that
 * team's default_pool of `slots`; every write applies.
 */
function teamsCapacity(held: () => ReadonlyMap<string, number>, slots: number): DispatchStore {
  return {
    countActiveTaskInstances: async () => ({
      byDag: new Map([...held()].map(([t, n]) => [`${t}/etl`, n])),
      byTeam: new Map([...held()].map(([t, n]) => [t, { tasks: n, pool_slots: n, inline: n }])),
    }),
    countActiveByTask: async () => [],
    listPoolUsage: async () =>
      [...held()].map(([team, n]) => ({
        team,
        name: "default_pool",
        description: null,
        include_deferred: false,
        slots,
        running_slots: n,
        queued_slots: 0,
        scheduled_slots: 0,
        deferred_slots: 0,
      })),
    applyTransitions: async (ts: TaskTransition[]) => ts.map(() => true),
  };
}

/** A dispatch step at `parallelism` starting every candidate inline, each start recorded as team/task_id in `started`. */
function recordingStep(store: DispatchStore, parallelism: number, started: string[]): DispatchStep {
  return new DispatchStep({
    store,
    dispatcher: { dispatch: async () => {} } as unknown as TaskDispatcher,
    logger: silentLogger,
    parallelism,
    inline: { accepts: () => true, start: async (t: TaskInstanceRecord) => (started.push(`${t.team}/${t.task_id}`), "started" as const) },
    wake: () => {},
    wakeAt: () => {},
    checkpoint: () => {},
  });
}

/** A planned run of `spec` in `team` (run id `id`, its task instances' ids apart from other runs'), in `states`. */
function teamRun(spec: DagSpec, team: string, id: number, states: Record<string, TaskState>) {
  const r = { ...run(), id, team, run_id: `manual__${id}` };
  const rows = tis(spec, states).map((t) => ({ ...t, id: t.id + 10 * id, dag_run_id: id, team, run_id: r.run_id }));
  return { snap: { run: r, tis: rows }, spec };
}

describe("DispatchStep: a fan-out its pool holds back", () => {
  test("parallelism reached only by counting a refill the read saw already leaves the waiting tasks' notes as they are", async () => {
    const spec = dag([http("a"), http("b"), http("c")]);
    // The store's counts as the next read will see them: a running, then b (a's refill) running.
    const counts = { running: 1 };
    const started: string[] = [];
    const d = recordingStep(
      teamsCapacity(() => new Map([["default", counts.running]]), 1),
      2,
      started,
    );
    const planned = [teamRun(spec, "default", 1, { a: "running", b: "scheduled", c: "scheduled" })];
    const rows = planned[0]!.snap.tis;
    const notesAt = async (now: Date, runs = planned) => {
      const notes: { id: number; note: string | null }[] = [];
      await d.run(runs, new Map(), { has: () => false }, now, notes as never[]);
      return notes;
    };
    // The pool's one slot is a's: b and c wait for it, and say so.
    const first = await notesAt(at(1));
    expect(first.map((n) => n.note)).toEqual(Array(2).fill("waiting for a slot in pool default_pool (0 of 1 open)"));
    // a ends and hands its slot to b; the next tick's read already counts b, and so does the refill still in flight.
    const a = rows.find((t) => t.task_id === "a")!;
    d.ending(a, spec);
    counts.running = 1;
    const now = at(2);
    d.prefetchCapacity(now);
    expect(await d.handOver(a, true, { has: () => false }, true, false).refilled).toBe(true);
    expect(started).toEqual(["default/b"]);
    // Counted twice, b makes 2 of parallelism 2: a guess. c (no run planned: it waits from before) still waits for
    // the pool, and its note is not rewritten to parallelism's.
    expect(await notesAt(now, [])).toEqual([]);
  });
});

describe("DispatchStep: a refill queue of two teams' tasks", () => {
  test("is dropped by a tick that selects nothing once the teams hold other counts: their turns have changed", async () => {
    const spec = dag([http("x"), http("w")]);
    // Each team runs x and waits with w; parallelism 2 is reached.
    const held = new Map([
      ["a", 1],
      ["b", 1],
    ]);
    const started: string[] = [];
    const d = recordingStep(
      teamsCapacity(() => held, 128),
      2,
      started,
    );
    const planned = [teamRun(spec, "a", 1, { x: "running", w: "scheduled" }), teamRun(spec, "b", 2, { x: "running", w: "scheduled" })];
    const tick = (now: Date) => d.run(planned, new Map(), { has: () => false }, now, []);
    expect(await tick(at(1))).toBe(0); // both wait for parallelism; the queue: a's w, then b's (equal turns, by name)
    // Team a now holds both slots (b's x ended, another of a's started): b's w comes first in fair order now.
    held.set("a", 2).set("b", 0);
    expect(await tick(at(2))).toBe(0);
    // a's x ends: the old queue's head (a's w) would take its slot, which a tick gives b's w.
    const x = planned[0]!.snap.tis.find((t) => t.task_id === "x")!;
    d.ending(x, spec);
    expect(await d.handOver(x, true, { has: () => false }, true, true).refilled).toBe(false);
    expect(started).toEqual([]);
  });
});

describe("freedTeamGoesFirst: whether a tick would give a team's freed slot back to it", () => {
  const holding = (h: Record<string, number>) => (team: string) => h[team] ?? 0;
  test.each<[string, Record<string, number>, string, boolean]>([
    ["both hold alike: the freed team then holds less", { a: 16, b: 16 }, "b", true],
    ["one more, a tie after the end: by team name, a first", { a: 16, b: 15 }, "a", true],
    ["one more, a tie after the end: by team name, b after a", { a: 15, b: 16 }, "b", false],
    ["it holds more than the other even after the end", { a: 20, b: 10 }, "a", false],
    ["a third team holds least", { a: 16, b: 16, c: 3 }, "a", false],
  ])("%s", (_name, held, team, expected) => {
    expect(freedTeamGoesFirst(team, holding(held), Object.keys(held))).toBe(expected);
  });
});

describe("cannotTakeFreedSlot: a head a refill may pass over", () => {
  const slot: FreedSlot = { team: "a", dag_id: "fan", task_id: "t0", pool: "p", pool_slots: 1 };
  test.each<[string, WaitReason, string, boolean]>([
    ["another team's full pool (pools are per team)", { kind: "pool_full", pool: "p", needed: 1, open: 0 }, "b", true],
    ["another full pool of its team", { kind: "pool_full", pool: "q", needed: 1, open: 0 }, "a", true],
    ["the freed slot's own pool", { kind: "pool_full", pool: "p", needed: 1, open: 0 }, "a", false],
    ["another DAG at its max_active_tasks", { kind: "max_active_tasks", dag_id: "other", max_active_tasks: 2 }, "a", true],
    ["the freed slot's DAG at its max_active_tasks", { kind: "max_active_tasks", dag_id: "fan", max_active_tasks: 2 }, "a", false],
    [
      "another task at its max_active_tis_per_dag",
      { kind: "max_active_tis_per_dag", dag_id: "fan", task_id: "t1", max_active_tis_per_dag: 1 },
      "a",
      true,
    ],
    ["another team at its quota", { kind: "team_quota", team: "b", quota: "max_running_tasks", limit: 2, used: 2 }, "b", true],
    ["the freed slot's team at its quota", { kind: "team_quota", team: "a", quota: "max_running_tasks", limit: 2, used: 2 }, "a", false],
    ["a pool that does not exist", { kind: "pool_missing", pool: "gone" }, "a", true],
    ["parallelism (its own limits were not asked)", { kind: "parallelism", parallelism: 4, running: 4 }, "b", false],
  ])("%s: %p", (_, reason, team, passed) => {
    expect(cannotTakeFreedSlot(reason, { team }, slot)).toBe(passed);
  });
});

describe("DispatchStep: fan-outs held back by pools", () => {
  test("one team's fan-out in two pools: an end passes over the head waiting for the other pool to its own pool's next task", async () => {
    // x_p and x_q hold the one slot of pools p and q; the waiting tasks alternate pools in fair order (by priority).
    const spec = dag([
      http("x_p", { pool: "p" }),
      http("x_q", { pool: "q" }),
      http("w_p1", { pool: "p", priority_weight: 4 }),
      http("w_q1", { pool: "q", priority_weight: 3 }),
      http("w_p2", { pool: "p", priority_weight: 2 }),
      http("w_q2", { pool: "q", priority_weight: 1 }),
    ]);
    const store: DispatchStore = {
      ...teamsCapacity(() => new Map([["default", 2]]), 1),
      listPoolUsage: async () =>
        ["p", "q"].map((name) => ({
          team: "default",
          name,
          description: null,
          include_deferred: false,
          slots: 1,
          running_slots: 1,
          queued_slots: 0,
          scheduled_slots: 0,
          deferred_slots: 0,
        })),
    };
    const started: string[] = [];
    const d = recordingStep(store, 10, started);
    const waiting: TaskState = "scheduled";
    const planned = [
      teamRun(spec, "default", 1, { x_p: "running", x_q: "running", w_p1: waiting, w_q1: waiting, w_p2: waiting, w_q2: waiting }),
    ];
    // Both pools full: nothing starts; the queue in fair order: w_p1, w_q1, w_p2, w_q2.
    expect(await d.run(planned, new Map(), { has: () => false }, at(1), [])).toBe(0);
    const end = (taskId: string) => {
      const t = { ...planned[0]!.snap.tis.find((r) => r.task_id === taskId)!, state: "running" as const };
      d.ending(t, spec);
      return d.handOver(t, true, { has: () => false }, true, true).refilled;
    };
    expect(await end("x_p")).toBe(true); // w_p1 takes p's slot
    expect(await end("w_p1")).toBe(true); // w_q1 heads the queue but needs q's slot: w_p2 takes p's
    expect(await end("x_q")).toBe(true); // w_q1, still queued, takes q's
    expect(started).toEqual(["default/w_p1", "default/w_p2", "default/w_q1"]);
  });

  test("two teams' fan-outs, each held back by its own pool: an end passes over the other team's head to its own team's next task", async () => {
    const spec = dag([http("x"), http("w1"), http("w2")]);
    const started: string[] = [];
    const d = recordingStep(
      teamsCapacity(
        () =>
          new Map([
            ["a", 1],
            ["b", 1],
          ]),
        1,
      ),
      10,
      started,
    );
    const states: Record<string, TaskState> = { x: "running", w1: "scheduled", w2: "scheduled" };
    const planned = [teamRun(spec, "a", 1, states), teamRun(spec, "b", 2, states)];
    // Both pools full: nothing starts; the queue in fair order (equal turns, by team name): a/w1, b/w1, a/w2, b/w2.
    expect(await d.run(planned, new Map(), { has: () => false }, at(1), [])).toBe(0);
    const task = (team: string, taskId: string) => planned.flatMap((p) => p.snap.tis).find((t) => t.team === team && t.task_id === taskId)!;
    const end = (team: string, taskId: string) => {
      const t = { ...task(team, taskId), state: "running" as const };
      d.ending(t, spec);
      return d.handOver(t, true, { has: () => false }, true, true).refilled;
    };
    expect(await end("a", "x")).toBe(true); // a/w1 takes a's slot
    expect(await end("a", "w1")).toBe(true); // b/w1 heads the queue but needs b's pool: a/w2 takes a's slot
    expect(await end("b", "x")).toBe(true); // b/w1, still queued, takes b's
    expect(started).toEqual(["a/w1", "a/w2", "b/w1"]);
  });
});

describe("DispatchStep: refill queues of several teams' fan-outs", () => {
  const spec = dag([http("x", { priority_weight: 10 }), http("y", { priority_weight: 10 }), http("w1"), http("w2")]);
  const noneHeld = { has: () => false };

  /**
   * A dispatch step at `parallelism` whose store counts what `held` says each team runs (all inline), recording each
   * start as team/task_id in `started` and each run it wakes in `wakes`.
   */
  function teamsStep(held: Map<string, number>, parallelism: number) {
    const started: string[] = [];
    const wakes: number[] = [];
    const d = new DispatchStep({
      store: teamsCapacity(() => held, 100),
      dispatcher: { dispatch: async () => {} } as unknown as TaskDispatcher,
      logger: silentLogger,
      parallelism,
      inline: { accepts: () => true, start: async (t: TaskInstanceRecord) => (started.push(`${t.team}/${t.task_id}`), "started" as const) },
      wake: (id) => wakes.push(id),
      wakeAt: () => {},
      checkpoint: () => {},
    });
    return { d, started, wakes };
  }
  /** Team `team`'s task `taskId` of `planned`, running. */
  const running = (planned: ReturnType<typeof teamRun>[], team: string, taskId: string) => ({
    ...planned.flatMap((p) => p.snap.tis).find((r) => r.team === team && r.task_id === taskId)!,
    state: "running" as const,
  });
  /** Ends `team`'s `taskId` of `planned` and answers whether a waiting task took its slot. */
  const endIn = (d: DispatchStep, planned: ReturnType<typeof teamRun>[]) => (team: string, taskId: string) => {
    const t = running(planned, team, taskId);
    d.ending(t, spec);
    return d.handOver(t, true, noneHeld, true, true).refilled;
  };

  test("new candidates while every slot is taken: the tick orders the queue again at once, so the next end's slot passes on", async () => {
    const { d, started } = teamsStep(new Map([["default", 1]]), 1);
    const first = teamRun(spec, "default", 1, { x: "running", w1: "scheduled" });
    expect(await d.run([first], new Map(), noneHeld, at(1), [])).toBe(0); // the queue: w1
    // A second run's task is planned while x still holds the one slot: the queue of the first tick is stale.
    const second = teamRun(spec, "default", 2, { x: "scheduled" });
    expect(await d.run([second], new Map(), noneHeld, at(2), [])).toBe(0);
    expect(await endIn(d, [first, second])("default", "x")).toBe(true);
    expect(started).toHaveLength(1);
  });

  test("two teams at parallelism holding alike: an end passes over the other team's head, as a tick would give its slot back to its own team", async () => {
    const held = new Map([
      ["a", 0],
      ["b", 0],
    ]);
    const { d, started } = teamsStep(held, 2);
    const states: Record<string, TaskState> = { x: "scheduled", w1: "scheduled", w2: "scheduled" };
    const planned = [teamRun(spec, "a", 1, states), teamRun(spec, "b", 2, states)];
    // The tick starts each team's x; the queue in fair order: a/w1, b/w1, a/w2, b/w2.
    expect(await d.run(planned, new Map(), noneHeld, at(1), [])).toBe(2);
    held.set("a", 1).set("b", 1);
    const end = endIn(d, planned);
    expect(await end("b", "x")).toBe(true); // b then holds fewer than a: b/w1, past a/w1
    expect(await end("a", "x")).toBe(true);
    expect(started).toEqual(["a/x", "b/x", "b/w1", "a/w1"]);
  });

  test("a team holding more: its end leaves the slot to a tick, and the queue to the other team's ends; that tick, its counts guessed full, is woken again by the next end", async () => {
    const held = new Map([
      ["a", 0],
      ["b", 0],
    ]);
    const { d, started, wakes } = teamsStep(held, 3);
    // a's x and b's x and y start; b's w1 waits, and a's w1 is scheduled in the next tick.
    const a1 = teamRun(spec, "a", 1, { x: "scheduled" });
    const b = teamRun(spec, "b", 2, { x: "scheduled", y: "scheduled", w1: "scheduled" });
    expect(await d.run([a1, b], new Map(), noneHeld, at(1), [])).toBe(3);
    held.set("a", 1).set("b", 2);
    const a = teamRun(spec, "a", 1, { x: "running", w1: "scheduled" });
    expect(await d.run([a], new Map(), noneHeld, at(2), [])).toBe(0); // the queue: a/w1, b/w1
    const end = endIn(d, [a, b]);
    expect(await end("b", "x")).toBe(false); // b still holds as much as a after its end, and a comes first
    // The tick that slot wakes reads b's end but counts a's end, being written, as still running: nothing fits.
    held.set("b", 1);
    const ax = running([a], "a", "x");
    d.ending(ax, spec);
    expect(await d.run([], new Map(), noneHeld, at(3), [])).toBe(0);
    expect(wakes).toEqual([]);
    // The queue is still there: a/w1 takes a's slot, and that end wakes the tick again.
    expect(await d.handOver(ax, true, noneHeld, true, true).refilled).toBe(true);
    await Bun.sleep(0);
    expect(wakes).toEqual([1]);
    expect(started).toEqual(["a/x", "b/x", "b/y", "a/w1"]);
  });
});

describe("DispatchStep: the refill queue's length", () => {
  test("after a queue another DAG's end refused at once, the next is ordered short: four rounds of parallelism", async () => {
    const spec = dag(Array.from({ length: 10 }, (_, i) => http(`t${i}`)));
    const started: string[] = [];
    const d = inlineStep({ accepts: () => true, start: async (t: TaskInstanceRecord) => (started.push(t.task_id), "started" as const) });
    const states: Record<string, TaskState> = Object.fromEntries(spec.tasks.map((t) => [t.task_id, "scheduled" as TaskState]));
    const rows = () => tis(spec, states);
    const tick = (now: Date) => d.run([{ snap: { run: run(), tis: rows() }, spec }], new Map(), { has: () => false }, now, []);
    const held = { has: () => false };
    const end = async (taskId: string) => {
      const t = { ...rows().find((r) => r.task_id === taskId)!, state: "running" as const };
      d.ending(t, spec);
      return d.handOver(t, true, held, true, true).refilled;
    };
    expect(await tick(at(1))).toBe(1); // t0 starts; the queue: t1…t9
    states.t0 = "running";
    // A task of another DAG ends first: the queue's head (t1) may not take its slot, and no refill came from the queue.
    const other = { ...rows()[0]!, id: 99, dag_id: "other", task_id: "o", state: "running" as const };
    d.ending(other, dag([http("o")], { dag_id: "other" }));
    expect(await d.handOver(other, true, held, true, true).refilled).toBe(false);
    // The capacity read sees nothing running (this store's): the tick starts t1 and orders a short queue, t2…t5.
    expect(await tick(at(2))).toBe(1);
    states.t1 = "running";
    // Ends pass their slots on four times (4 × parallelism 1); then the short queue is used up.
    const refilled: boolean[] = [];
    for (const t of ["t0", "t1", "t2", "t3", "t4"]) refilled.push(await end(t));
    expect(refilled).toEqual([true, true, true, true, false]);
    expect(started).toEqual(["t0", "t1", "t2", "t3", "t4", "t5"]);
  });
});

describe("DispatchStep successor: the slot's next task starts with the end's own write", () => {
  const spec = dag([http("a"), http("b"), http("c")]);

  /** a runs, b and c wait; `results`: what each start() call answers, in turn (then "started"). */
  async function setUp(results: ("started" | "gone")[] = []) {
    const started: string[] = [];
    const inline = {
      accepts: () => true,
      start: async (t: TaskInstanceRecord) => (started.push(t.task_id), results.shift() ?? ("started" as const)),
    };
    const d = inlineStep(inline);
    const rows = tis(spec, { a: "running", b: "scheduled", c: "scheduled" });
    const a = rows.find((t) => t.task_id === "a")!;
    const planned = [{ snap: { run: run(), tis: rows }, spec }];
    const tick = (now: Date) => d.run(planned, new Map(), { has: () => false }, now, []);
    d.ending(a, spec);
    await tick(at(1)); // a's slot is the refill's: builds the queue [b, c]
    return { d, a, started, tick };
  }

  test("the queue's head is named, without a start write; started with the end, it counts as the slot's refill", async () => {
    const { d, a, started, tick } = await setUp();
    expect(d.successor(a, { has: () => false })?.ti.task_id).toBe("b");
    expect(started).toEqual([]);
    expect(await tick(at(2))).toBe(0); // neither b (its start rides on a's end) nor another takes a's slot
    expect(await d.handOver(a, true, { has: () => false }, true, false, true).refilled).toBe(true);
    expect(started).toEqual([]);
  });

  test("not started by the end's write although the end applied: it is started the usual way, first in line", async () => {
    const { d, a, started } = await setUp();
    d.successor(a, { has: () => false });
    expect(await d.handOver(a, true, { has: () => false }, true, false, false).refilled).toBe(true);
    expect(started).toEqual(["b"]);
  });

  test("the end did not apply: nothing starts in its slot, and the next tick starts the successor", async () => {
    const { d, a, started, tick } = await setUp();
    d.successor(a, { has: () => false });
    expect(await d.handOver(a, false, { has: () => false }, true, false, false).refilled).toBe(false);
    expect(started).toEqual([]);
    expect(await tick(at(2))).toBe(1);
    expect(started).toEqual(["b"]);
  });

  test("a head gone meanwhile (started elsewhere, marked) passes the slot to the next one", async () => {
    const { d, a, started } = await setUp(["gone"]);
    expect(await d.handOver(a, true, { has: () => false }, true, false).refilled).toBe(true);
    expect(started).toEqual(["b", "c"]);
  });
});

describe("DispatchStep successor: a chain's next task", () => {
  const spec = dag([http("a"), http("b", { upstream: ["a"] })]);
  const none = { has: () => false };

  /** A tick starts a (parallelism 1); `pool`: what the next capacity reads see. */
  async function setUp() {
    const pool = { slots: 128, running_slots: 0 };
    const started: string[] = [];
    const inline = {
      accepts: () => true,
      start: async (t: TaskInstanceRecord) => (started.push(t.task_id), "started" as const),
      isRunning: () => true,
    };
    const d = inlineStep(inline, idleCapacity(pool));
    const rows = tis(spec, { a: "scheduled" });
    const a = rows.find((t) => t.task_id === "a")!;
    await d.run([{ snap: { run: run(), tis: rows }, spec }], new Map(), none, at(1), []);
    expect(started).toEqual(["a"]);
    d.ending(a, spec);
    return { d, a, pool, started };
  }

  test("on a success: named with its move into scheduled, to start only if the end applies as success; that end needs no tick", async () => {
    const { d, a, started } = await setUp();
    const next = d.successor(a, none, true);
    expect(next?.ti.task_id).toBe("b");
    expect(next?.scheduling).toMatchObject({ id: next!.ti.id, from: ["none"], to: "scheduled" });
    expect(next?.afterSuccess).toBe(true);
    const { refilled, covered } = d.handOver(a, true, none, true, true, true);
    expect(await refilled).toBe(true);
    expect(await covered!).toBe(true);
    expect(started).toEqual(["a"]); // its start rode on a's end
  });

  test("not started by the end's write (its upstream's XCom refused, or it moved on): no start write of its own", async () => {
    const { d, a, started } = await setUp();
    expect(d.successor(a, none, true)?.ti.task_id).toBe("b");
    expect(await d.handOver(a, true, none, true, false, false).refilled).toBe(false);
    expect(started).toEqual(["a"]); // b was never scheduled: the run's tick plans it
  });

  test("not on a failure, and not while a run is held", async () => {
    const { d, a } = await setUp();
    expect(d.successor(a, none, false)).toBeUndefined();
    expect(d.successor(a, { has: () => true }, true)).toBeUndefined();
  });

  test("not while its pool is over its limit at the latest tick's counts (a shrunk pool drains first)", async () => {
    const { d, a, pool } = await setUp();
    const tick = async (now: Date) => {
      d.prefetchCapacity(now); // as the loop does: the counts travel with the tick's reads
      await d.run([], new Map(), none, now, []); // nothing to launch, but the counts are the latest
    };
    Object.assign(pool, { slots: 0, running_slots: 1 });
    await tick(at(2));
    expect(d.successor(a, none, true)).toBeUndefined();
    Object.assign(pool, { slots: 1, running_slots: 1 });
    await tick(at(3));
    expect(d.successor(a, none, true)?.ti.task_id).toBe("b");
  });
});

describe("chainSuccessor: the task a success alone makes ready takes the slot", () => {
  const inline = (t: { operator: string }) => t.operator === "http";
  const next = (spec: ReturnType<typeof dag>, states: Parameters<typeof tis>[1] = {}, ended = "a") => {
    const rows = tis(spec, { a: "running", ...states });
    return chainSuccessor(spec, rows, rows.find((t) => t.task_id === ended)!, inline)?.task_id;
  };
  test("a plain chain: the next task", () => {
    expect(next(dag([http("a"), http("b", { upstream: ["a"] }), http("c", { upstream: ["b"] })]))).toBe("b");
  });
  test.each<[string, ReturnType<typeof dag>, Parameters<typeof tis>[1]]>([
    ["a leaf", dag([http("a"), http("b")]), {}],
    ["two tasks downstream", dag([http("a"), http("b", { upstream: ["a"] }), http("c", { upstream: ["a"] })]), {}],
    ["a join with another upstream", dag([http("a"), http("x"), http("b", { upstream: ["a", "x"] })]), {}],
    ["a rule that does not fire on a success", dag([http("a"), http("b", { upstream: ["a"], trigger_rule: "all_failed" })]), {}],
    ["a task not waiting (already scheduled)", dag([http("a"), http("b", { upstream: ["a"] })]), { b: "scheduled" }],
    ["a task of another pool", dag([http("a"), http("b", { upstream: ["a"] })]), { b: { pool: "other" } }],
    ["a task taking more pool slots", dag([http("a"), http("b", { upstream: ["a"] })]), { b: { pool_slots: 2 } }],
    ["a task not run inline", dag([http("a"), { task_id: "b", upstream: ["a"] }]), {}],
    ["depends_on_past", dag([http("a"), http("b", { upstream: ["a"], depends_on_past: true })]), {}],
    ["max_active_tis_per_dag", dag([http("a"), http("b", { upstream: ["a"], max_active_tis_per_dag: 1 })]), {}],
    ["a mapped task", dag([http("a"), http("b", { upstream: ["a"], expand: { http: [{ url: "http://x/1" }] } })]), {}],
  ])("none for %s", (_, spec, states) => {
    expect(next(spec, states)).toBeUndefined();
  });
  test("none for an empty task, wherever the caller hands over: the planner marks it success without a slot", () => {
    const spec = dag([http("a"), { task_id: "b", upstream: ["a"], operator: "empty", bash_command: undefined }]);
    const rows = tis(spec, { a: "running" });
    expect(chainSuccessor(spec, rows, rows[0]!, () => true)).toBeUndefined();
  });
  test("none after a mapped instance (its downstream waits for every instance)", () => {
    const spec = dag([http("a"), http("b", { upstream: ["a"] })]);
    const rows = tis(spec, { a: { state: "running", map_index: 0 } });
    expect(chainSuccessor(spec, rows, rows[0]!, inline)).toBeUndefined();
  });
});

describe("successNeedsNoPlan: a success that moves no downstream task while the successor runs", () => {
  const join = (rule: string, upstream = ["a", "b"]) => dag([http("a"), http("b"), http("c"), http("j", { upstream, trigger_rule: rule })]);
  test("a leaf task (a plain fan-out): nothing downstream moves", () => {
    expect(successNeedsNoPlan(dag([http("a"), http("b")]), "a", "b")).toBe(true);
  });
  test.each<[string, boolean]>([
    ["all_success", true],
    ["all_done", true],
    ["all_done_setup_success", true],
    ["all_done_min_one_success", true],
    ["one_failed", true],
    ["none_failed", true],
    ["none_failed_min_one_success", true],
    ["none_skipped", true],
    // These decide on a single success (or do not wait at all): the run must be planned at once.
    ["one_success", false],
    ["one_done", false],
    ["all_failed", false],
    ["all_skipped", false],
    ["always", false],
  ])("a join with trigger_rule %s over the ended task and the successor: %p", (rule, expected) => {
    expect(successNeedsNoPlan(join(rule), "a", "b")).toBe(expected);
  });
  test("a join the successor is not upstream of may be ready: plan it", () => {
    expect(successNeedsNoPlan(join("all_success", ["a"]), "a", "c")).toBe(false);
    expect(successNeedsNoPlan(join("all_success"), "a", "c")).toBe(false);
  });
  // The rule list agrees with the trigger rules themselves: a join over the ended task, the running successor and
  // up to two other upstreams in any state. A rule is trusted exactly when the join can wait there (always never
  // does) and the ended task's success never turns that wait into a decision.
  test.each([...TRIGGER_RULES])("%s: trusted exactly when the join waits and one upstream's success alone never decides it", (rule) => {
    const states: TaskState[] = ["none", "running", "success", "failed", "skipped", "upstream_failed", "removed"];
    const others: TaskState[][] = [[], ...states.map((s) => [s]), ...states.flatMap((s) => states.map((t) => [s, t]))];
    const waits = (o: TaskState[]) => evaluateTriggerRule(rule, ["running", "running", ...o]) === "wait";
    const canWait = others.some(waits);
    const decidedBySuccess = others.some((o) => waits(o) && evaluateTriggerRule(rule, ["success", "running", ...o]) !== "wait");
    expect(successNeedsNoPlan(join(rule), "a", "b")).toBe(canWait && !decidedBySuccess);
  });
});

describe("DispatchStep handOver: which ends need no tick of their run", () => {
  /** a runs, b (and c) wait for parallelism 1; `applies`: whether b's start write applies (a lost race does not). */
  async function setUp(spec: ReturnType<typeof dag>, opts: { applies?: boolean; isRunning?: boolean; runId?: number } = {}) {
    const running = new Set<number>();
    const inline = {
      accepts: () => true,
      start: async (t: TaskInstanceRecord) => {
        if (opts.applies !== false) running.add(t.id);
        return "started" as const;
      },
      ...(opts.isRunning === false ? {} : { isRunning: (t: Pick<TaskInstanceRecord, "id">) => running.has(t.id) }),
    };
    const d = inlineStep(inline);
    const rows = tis(spec, { a: "running", b: "scheduled", c: "scheduled" });
    const other = { ...run(), id: opts.runId ?? 1 };
    const planned = [{ snap: { run: other, tis: rows.map((t) => (t.task_id === "a" ? t : { ...t, dag_run_id: other.id })) }, spec }];
    const a = rows.find((t) => t.task_id === "a")!;
    d.ending(a, spec);
    await d.run(planned, new Map(), { has: () => false }, at(1), []); // every slot taken: builds the refill queue [b, c]
    return { d, a };
  }
  const fan = dag([http("a"), http("b"), http("c")]);
  const none = { has: () => false };

  test("a success whose slot went to a task of its run that started: covered, no wake", async () => {
    const { d, a } = await setUp(fan);
    const { refilled, covered } = d.handOver(a, true, none, true, true);
    expect(covered).not.toBeNull();
    expect(await refilled).toBe(true);
    expect(await covered!).toBe(true);
  });

  test("the successor's start did not apply (a lost race): covered resolves false, the caller wakes the run", async () => {
    const { d, a } = await setUp(fan, { applies: false });
    const { covered } = d.handOver(a, true, none, true, true);
    expect(await covered!).toBe(false);
  });

  test.each<[string, Parameters<typeof setUp>[1], boolean, ReturnType<typeof dag>]>([
    ["a failure (retries, downstream failures)", {}, false, fan],
    ["the successor is of another run", { runId: 2 }, true, fan],
    ["a runner that cannot tell whether the successor runs", { isRunning: false }, true, fan],
    [
      "a downstream one_success task",
      {},
      true,
      dag([http("a"), http("b"), http("c"), http("j", { upstream: ["a", "b"], trigger_rule: "one_success" })]),
    ],
    // c waits in a pool the store does not know, so the queue ends before it: with b taken the queue is empty while
    // a task still waits beyond it, and the tick orders the next queue before more slots free.
    [
      "the refill queue runs low, and more tasks wait than it held",
      {},
      true,
      dag([http("a"), http("b"), http("c", { pool: "elsewhere" })]),
    ],
  ])("wakes: %s", async (_, opts, succeeded, spec) => {
    const { d, a } = await setUp(spec, opts);
    const { refilled, covered } = d.handOver(a, true, none, true, succeeded);
    expect(covered).toBeNull();
    expect(await refilled).toBe(true); // the slot is still refilled
  });

  test("the refill queue runs low but held every waiting task: covered, no wake (a tick would order the same tasks)", async () => {
    const { d, a } = await setUp(dag([http("a"), http("b")]));
    const { refilled, covered } = d.handOver(a, true, none, true, true);
    expect(await refilled).toBe(true);
    expect(covered).not.toBeNull();
    expect(await covered!).toBe(true);
  });

  test("no refill (the loop is stopped): wakes", async () => {
    const { d, a } = await setUp(fan);
    const { refilled, covered } = d.handOver(a, true, none, false, true);
    expect(covered).toBeNull();
    expect(await refilled).toBe(false);
  });
});
