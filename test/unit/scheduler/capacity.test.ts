import { describe, expect, test } from "bun:test";
import { renderWaitReason, type WaitReason, type TaskInstanceRecord } from "../../../src/domain";
import { fairOrder, sameLimits, sameQuotas, selectDispatchable, type CapacityLimits, type DispatchCandidate } from "../../../src/scheduler";
import { at, T0 } from "./helpers";

let nextId = 1;
function cand(
  task_id: string,
  o: {
    team?: string;
    dag?: string;
    run?: string;
    weight?: number;
    queuedAt?: Date;
    max?: number;
    pool?: string;
    slots?: number;
    inline?: boolean;
  } = {},
): DispatchCandidate {
  const ti = {
    id: nextId++,
    dag_run_id: 1,
    team: o.team ?? "default",
    dag_id: o.dag ?? "etl",
    run_id: o.run ?? "r1",
    task_id,
    map_index: -1,
    state: "scheduled",
    try_number: 1,
    max_tries: 0,
    operator: "bash",
    pool: o.pool ?? "default_pool",
    pool_slots: o.slots ?? 1,
    priority_weight: o.weight ?? 1,
    queued_at: null,
    start_date: null,
    end_date: null,
    last_heartbeat: null,
    hostname: null,
    pid: null,
    executor: null,
    note: null,
    wait_reason: null,
    updated_at: T0,
  } satisfies TaskInstanceRecord;
  return { ti, runQueuedAt: o.queuedAt ?? T0, maxActiveTasks: o.max ?? 16, inline: o.inline };
}
const ids = (cs: DispatchCandidate[]) => cs.map((c) => `${c.ti.dag_id}/${c.ti.run_id}/${c.ti.task_id}`);
/** The notes a user would see for the waiting candidates. */
const notes = (waiting: { reason: WaitReason }[]) => waiting.map((w) => renderWaitReason(w.reason));
const open = { parallelism: 100, running: 0, runningByDag: new Map<string, number>() };

describe("selectDispatchable: order", () => {
  test("priority desc, then oldest run, then dag_id, run_id, task_id", () => {
    const cs = [
      cand("t", { dag: "b", weight: 1 }),
      cand("t", { dag: "a", weight: 1 }),
      cand("z", { dag: "a", run: "r2", weight: 1 }),
      cand("y", { dag: "a", run: "r2", weight: 1 }),
      cand("old", { dag: "zz", weight: 1, queuedAt: at(-60) }),
      cand("urgent", { dag: "zz", weight: 5, queuedAt: at(60) }),
    ];
    const { dispatch, waiting } = selectDispatchable(cs, open);
    expect(ids(dispatch)).toEqual(["zz/r1/urgent", "zz/r1/old", "a/r1/t", "a/r2/y", "a/r2/z", "b/r1/t"]);
    expect(waiting).toEqual([]);
  });

  test("the input order does not matter", () => {
    const cs = [cand("a", { weight: 2 }), cand("b"), cand("c", { weight: 3 })];
    expect(ids(selectDispatchable([...cs].reverse(), open).dispatch)).toEqual(ids(selectDispatchable(cs, open).dispatch));
  });
});

describe("selectDispatchable: limits", () => {
  test("global parallelism counts what is already running; the rest wait with a reason", () => {
    const cs = [cand("a", { weight: 3 }), cand("b", { weight: 2 }), cand("c", { weight: 1 })];
    const { dispatch, waiting } = selectDispatchable(cs, { parallelism: 4, running: 3, runningByDag: new Map() });
    expect(ids(dispatch)).toEqual(["etl/r1/a"]);
    expect(waiting.map((w) => [w.candidate.ti.task_id, renderWaitReason(w.reason)])).toEqual([
      ["b", "parallelism (4) reached: 4 task instances queued or running"],
      ["c", "parallelism (4) reached: 4 task instances queued or running"],
    ]);
  });

  test("max_active_tasks per DAG counts running and queued ones; other DAGs still go", () => {
    const cs = [cand("a", { max: 2 }), cand("b", { max: 2 }), cand("c", { dag: "other", max: 2 })];
    const { dispatch, waiting } = selectDispatchable(cs, { ...open, runningByDag: new Map([["default/etl", 1]]) });
    expect(ids(dispatch)).toEqual(["etl/r1/a", "other/r1/c"]);
    expect(notes(waiting)).toEqual(["max_active_tasks (2) reached for DAG etl"]);
  });

  test("pool slots: a task needing more slots waits, a smaller one behind it still fits", () => {
    const cs = [cand("big", { weight: 9, slots: 3 }), cand("small", { weight: 1 }), cand("small2", { weight: 0 })];
    const limits = {
      ...open,
      poolOpenSlots: new Map([["default/default_pool", 2]]),
      poolTotalSlots: new Map([["default/default_pool", 128]]),
    };
    const { dispatch, waiting } = selectDispatchable(cs, limits);
    expect(ids(dispatch)).toEqual(["etl/r1/small", "etl/r1/small2"]);
    expect(notes(waiting)).toEqual(["waiting for 3 slots in pool default_pool (2 of 128 open)"]);
  });

  test("a full pool says how many slots are open", () => {
    const cs = [cand("a"), cand("b")];
    const limits = {
      ...open,
      poolOpenSlots: new Map([["default/default_pool", 1]]),
      poolTotalSlots: new Map([["default/default_pool", 128]]),
    };
    const { waiting } = selectDispatchable(cs, limits);
    expect(notes(waiting)).toEqual(["waiting for a slot in pool default_pool (0 of 128 open)"]);
  });

  test("an unknown pool and an impossible slot count are explained", () => {
    const cs = [cand("a", { pool: "gpu" }), cand("b", { slots: 5, pool: "tiny" })];
    const limits = { ...open, poolOpenSlots: new Map([["default/tiny", 4]]), poolTotalSlots: new Map([["default/tiny", 4]]) };
    const { dispatch, waiting } = selectDispatchable(cs, limits);
    expect(dispatch).toEqual([]);
    expect(notes(waiting)).toEqual([
      "pool gpu does not exist; create it with POST /api/v2/pools or set the task's pool to an existing one",
      "task needs 5 slots but pool tiny has only 4; lower pool_slots or enlarge the pool",
    ]);
  });

  test("without pool information, pools are not limited", () => {
    const cs = [cand("a", { slots: 500 }), cand("b", { pool: "anything" })];
    expect(selectDispatchable(cs, open).dispatch).toHaveLength(2);
  });

  test("the given maps are not modified", () => {
    const runningByDag = new Map([["default/etl", 0]]);
    const poolOpenSlots = new Map([["default/default_pool", 5]]);
    const teamUsage = new Map([["default", { tasks: 1, pool_slots: 1, inline: 0 }]]);
    selectDispatchable([cand("a"), cand("b")], { ...open, runningByDag, poolOpenSlots, teamUsage });
    expect(runningByDag.get("default/etl")).toBe(0);
    expect(poolOpenSlots.get("default/default_pool")).toBe(5);
    expect(teamUsage.get("default")).toEqual({ tasks: 1, pool_slots: 1, inline: 0 });
  });
});

/** `team:task_id` of each candidate, in order. */
const byTeam = (cs: DispatchCandidate[]) => cs.map((c) => `${c.ti.team}:${c.ti.task_id}`);
const usage = (tasks: number, pool_slots = tasks, inline = 0) => ({ tasks, pool_slots, inline });
const unlimited = { max_running_tasks: null, max_pool_slots: null, max_inline_requests: null };

describe("fair order across teams", () => {
  test("a flooding team does not starve a small one under global parallelism: teams take turns", () => {
    const flood = Array.from({ length: 10_000 }, (_, i) => cand(`f${i}`, { team: "flood", weight: 5, queuedAt: at(-3600) }));
    const small = [cand("s0", { team: "small" }), cand("s1", { team: "small" })];
    const { dispatch, waiting } = selectDispatchable([...flood, ...small], { ...open, parallelism: 4 });
    // Even with higher priorities and older runs, the flood takes one slot per round.
    expect(byTeam(dispatch)).toEqual(["flood:f0", "small:s0", "flood:f1", "small:s1"]);
    expect(waiting).toHaveLength(9_998);
  });

  test("a team holding fewer takes the freed slots until it catches up; then teams alternate", () => {
    const cs = [
      ...Array.from({ length: 10 }, (_, i) => cand(`f${i}`, { team: "flood", weight: 9 })),
      ...Array.from({ length: 10 }, (_, i) => cand(`s${i}`, { team: "small" })),
    ];
    const teamUsage = new Map([["flood", usage(5)]]);
    const { dispatch } = selectDispatchable(cs, { ...open, parallelism: 13, running: 5, teamUsage });
    expect(byTeam(dispatch)).toEqual([...["s0", "s1", "s2", "s3", "s4"].map((t) => `small:${t}`), ...["flood:f0", "small:s5", "flood:f1"]]);
  });

  test("the team holding fewer queued or running tasks goes first and wins the slot a finished task frees", () => {
    const cs = [cand("a", { team: "busy" }), cand("b", { team: "quiet" })];
    const teamUsage = new Map([
      ["busy", usage(3)],
      ["quiet", usage(1)],
    ]);
    const { dispatch, waiting } = selectDispatchable(cs, { ...open, parallelism: 5, running: 4, teamUsage });
    expect(byTeam(dispatch)).toEqual(["quiet:b"]);
    expect(notes(waiting)).toEqual(["parallelism (5) reached: 5 task instances queued or running"]);
  });

  test("each team keeps its own order (priority, then oldest run); ties between teams go by name", () => {
    const cs = [
      cand("low", { team: "b", weight: 1 }),
      cand("high", { team: "b", weight: 9 }),
      cand("new", { team: "a", queuedAt: at(60) }),
      cand("old", { team: "a", queuedAt: at(-60) }),
      cand("only", { team: "c" }),
    ];
    expect(byTeam(fairOrder(cs))).toEqual(["a:old", "b:high", "c:only", "a:new", "b:low"]);
    expect(byTeam(fairOrder([...cs].reverse()))).toEqual(byTeam(fairOrder(cs)));
  });

  test("one team: the plain priority order", () => {
    const cs = [cand("a", { weight: 1 }), cand("b", { weight: 3 }), cand("c", { weight: 2 })];
    expect(ids(fairOrder(cs))).toEqual(["etl/r1/b", "etl/r1/c", "etl/r1/a"]);
  });

  test("two teams' DAGs and pools named alike are limited apart", () => {
    const cs = [
      cand("a", { team: "ml", max: 5 }),
      cand("b", { team: "web", max: 1, pool: "gpu", weight: 2 }),
      cand("c", { team: "web", max: 1, pool: "gpu" }),
      cand("d", { team: "ml", dag: "train", pool: "gpu" }),
    ];
    const limits = {
      ...open,
      runningByDag: new Map([["ml/etl", 5]]),
      poolOpenSlots: new Map([
        ["ml/gpu", 0],
        ["web/gpu", 5],
      ]),
    };
    const { dispatch, waiting } = selectDispatchable(cs, limits);
    expect(byTeam(dispatch)).toEqual(["web:b"]);
    // In no particular order: once nothing fits, the rest wait unordered.
    expect(waiting.map((w) => `${w.candidate.ti.team}:${w.candidate.ti.task_id}: ${renderWaitReason(w.reason)}`).sort()).toEqual([
      "ml:a: max_active_tasks (5) reached for DAG etl",
      "ml:d: waiting for a slot in pool gpu (0 open)",
      "web:c: max_active_tasks (1) reached for DAG etl",
    ]);
  });
});

describe("team quotas", () => {
  test("max_running_tasks counts the team's queued and running tasks; the note names team, quota and value", () => {
    const cs = [
      cand("a", { team: "data-eng" }),
      cand("b", { team: "data-eng" }),
      cand("c", { team: "data-eng" }),
      cand("x", { team: "ml" }),
    ];
    const teamQuotas = new Map([["data-eng", { ...unlimited, max_running_tasks: 10 }]]);
    const { dispatch, waiting } = selectDispatchable(cs, { ...open, teamQuotas, teamUsage: new Map([["data-eng", usage(9)]]) });
    expect(byTeam(dispatch)).toEqual(["ml:x", "data-eng:a"]);
    expect(notes(waiting)).toEqual([
      "team data-eng reached its quota max_running_tasks=10 (10 queued or running); it waits until the team's tasks finish or an admin raises the quota",
      "team data-eng reached its quota max_running_tasks=10 (10 queued or running); it waits until the team's tasks finish or an admin raises the quota",
    ]);
    expect(waiting.map((w) => w.reason.kind)).toEqual(["team_quota", "team_quota"]);
  });

  test("max_pool_slots sums the slots the team holds over all its pools; a smaller task still fits", () => {
    const cs = [cand("big", { team: "ml", weight: 9, slots: 3, pool: "gpu" }), cand("small", { team: "ml", pool: "cpu" })];
    const teamQuotas = new Map([["ml", { ...unlimited, max_pool_slots: 8 }]]);
    const { dispatch, waiting } = selectDispatchable(cs, { ...open, teamQuotas, teamUsage: new Map([["ml", usage(4, 6)]]) });
    expect(byTeam(dispatch)).toEqual(["ml:small"]);
    expect(notes(waiting)).toEqual([
      "team ml reached its quota max_pool_slots=8 (6 pool slots held by queued or running tasks, this task needs 3); it waits until the team's tasks finish or an admin raises the quota",
    ]);
  });

  test("max_inline_requests holds only inline tasks; the team's other tasks go on", () => {
    const cs = [
      cand("call1", { team: "web", inline: true, weight: 3 }),
      cand("call2", { team: "web", inline: true, weight: 2 }),
      cand("bash", { team: "web", weight: 1 }),
    ];
    const teamQuotas = new Map([["web", { ...unlimited, max_inline_requests: 2 }]]);
    const { dispatch, waiting } = selectDispatchable(cs, { ...open, teamQuotas, teamUsage: new Map([["web", usage(1, 1, 1)]]) });
    expect(byTeam(dispatch)).toEqual(["web:call1", "web:bash"]);
    expect(notes(waiting)).toEqual([
      "team web reached its quota max_inline_requests=2 (2 inline requests in flight); it waits until the team's tasks finish or an admin raises the quota",
    ]);
  });

  test("a team without quotas (or unlimited ones) is limited only by parallelism, DAGs and pools", () => {
    const cs = Array.from({ length: 50 }, (_, i) => cand(`t${i}`, { team: "free", max: 100 }));
    const teamQuotas = new Map([["free", unlimited]]);
    expect(selectDispatchable(cs, { ...open, teamQuotas, teamUsage: new Map([["free", usage(1000)]]) }).dispatch).toHaveLength(50);
  });

  test("parallelism is reported before a quota: it is what holds everyone", () => {
    const teamQuotas = new Map([["ml", { ...unlimited, max_running_tasks: 1 }]]);
    const { waiting } = selectDispatchable([cand("a", { team: "ml" })], {
      ...open,
      parallelism: 2,
      running: 2,
      teamQuotas,
      teamUsage: new Map([["ml", usage(1)]]),
    });
    expect(waiting.map((w) => w.reason.kind)).toEqual(["parallelism"]);
  });
});

describe("sameLimits", () => {
  const quotas = new Map();
  const limits = (): CapacityLimits => ({
    parallelism: 32,
    running: 3,
    runningByDag: new Map([["default/etl", 3]]),
    poolOpenSlots: new Map([["default/default_pool", 125]]),
    poolTotalSlots: new Map([["default/default_pool", 128]]),
    teamQuotas: quotas,
    teamUsage: new Map([["default", { tasks: 3, pool_slots: 3, inline: 1 }]]),
  });

  test("the same counts in other objects are the same limits", () => {
    expect(sameLimits(limits(), limits())).toBe(true);
    expect(
      sameLimits(
        { ...limits(), runningByTask: new Map([["default/etl/a", 1]]) },
        { ...limits(), runningByTask: new Map([["default/etl/a", 1]]) },
      ),
    ).toBe(true);
  });

  test("any count that differs makes them differ", () => {
    const changes: Partial<CapacityLimits>[] = [
      { parallelism: 16 },
      { running: 2 },
      { runningByDag: new Map([["default/etl", 2]]) },
      { runningByDag: new Map([["default/other", 3]]) },
      {
        runningByDag: new Map([
          ["default/etl", 3],
          ["default/other", 0],
        ]),
      },
      { poolOpenSlots: new Map([["default/default_pool", 124]]) },
      { poolOpenSlots: undefined },
      { poolTotalSlots: new Map([["default/default_pool", 64]]) },
      { teamQuotas: new Map() },
      { teamUsage: new Map([["default", { tasks: 3, pool_slots: 4, inline: 1 }]]) },
      { teamUsage: new Map([["default", { tasks: 3, pool_slots: 3, inline: 0 }]]) },
      { runningByTask: new Map([["default/etl/a", 1]]) },
    ];
    for (const change of changes) {
      expect(sameLimits(limits(), { ...limits(), ...change })).toBe(false);
      expect(sameLimits({ ...limits(), ...change }, limits())).toBe(false);
    }
  });
});

describe("sameQuotas", () => {
  const team = (name: string, max_running_tasks: number | null, extra: Record<string, unknown> = {}) =>
    [name, { max_running_tasks, max_pool_slots: 8, max_inline_requests: null, ...extra }] as const;

  test("the same quotas read again are the same, whatever else a team's row holds", () => {
    const a = new Map([team("ml", 4), team("etl", null)]);
    const b = new Map([team("etl", null, { created_at: new Date() }), team("ml", 4, { description: "x" })]);
    expect(sameQuotas(a, b)).toBe(true);
    expect(sameQuotas(new Map(), new Map())).toBe(true);
  });

  test("a quota changed, a team added or gone makes them differ", () => {
    const a = new Map([team("ml", 4), team("etl", null)]);
    expect(sameQuotas(a, new Map([team("ml", 5), team("etl", null)]))).toBe(false);
    expect(sameQuotas(a, new Map([team("ml", 4), team("etl", null, { max_pool_slots: 9 })]))).toBe(false);
    expect(sameQuotas(a, new Map([team("ml", 4), team("etl", null, { max_inline_requests: 1 })]))).toBe(false);
    expect(sameQuotas(a, new Map([team("ml", 4)]))).toBe(false);
    expect(sameQuotas(a, new Map([team("ml", 4), team("etl", null), team("new", null)]))).toBe(false);
  });
});
