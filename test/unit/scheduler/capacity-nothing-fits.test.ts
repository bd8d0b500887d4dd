/**
 * selectDispatchable when nothing fits: it skips the fair order (a heap over every candidate) and gives each
 * candidate its reason as things stand. Held against the ordered path on 600 seeded random cases: the same
 * candidates plus one that always fits, last in the input (so the ordered path runs), must leave every other
 * candidate waiting for the same reason.
 */
import { describe, expect, test } from "bun:test";
import { teamKey, type TaskInstanceRecord } from "../../../src/domain";
import { selectDispatchable, type CapacityLimits, type DispatchCandidate, type TeamQuotas } from "../../../src/scheduler";
import { taskKey } from "../../../src/scheduler/capacity";

const T0 = new Date("2026-01-01T00:00:00Z");

function lcg(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

let nextId = 1;
function candidate(team: string, dag: string, pool: string, extra: Partial<DispatchCandidate> & { slots?: number; weight?: number } = {}) {
  const id = nextId++;
  const ti = {
    id,
    team,
    dag_id: dag,
    run_id: `r${id % 7}`,
    task_id: `t${id}`,
    map_index: -1,
    pool,
    pool_slots: extra.slots ?? 1,
    priority_weight: extra.weight ?? 1,
  } as TaskInstanceRecord;
  return { ti, runQueuedAt: new Date(T0.getTime() + (id % 5) * 1000), maxActiveTasks: 16, ...extra } as DispatchCandidate;
}

const reasonsById = (waiting: { candidate: DispatchCandidate; reason: unknown }[]) =>
  new Map(waiting.map((w) => [w.candidate.ti.id, w.reason]));

describe("selectDispatchable when nothing fits", () => {
  test("every candidate of a full pool waits with the pool's reason, none is queued, and the refill queue is their fair order", () => {
    const cands = [candidate("default", "d", "default_pool", { weight: 1 }), candidate("default", "d", "default_pool", { weight: 9 })];
    const limits: CapacityLimits = {
      parallelism: 1_000,
      running: 128,
      runningByDag: new Map(),
      poolOpenSlots: new Map([[teamKey("default", "default_pool"), 0]]),
      poolTotalSlots: new Map([[teamKey("default", "default_pool"), 128]]),
    };
    const { dispatch, waiting, next } = selectDispatchable(cands, limits, 64);
    expect(dispatch).toEqual([]);
    // A slot the pool frees goes to the highest priority first (refill.ts), as a tick would give it.
    expect(next.map((c) => c.ti.id)).toEqual([cands[1]!.ti.id, cands[0]!.ti.id]);
    expect(reasonsById(waiting)).toEqual(
      new Map(cands.map((c) => [c.ti.id, { kind: "pool_full", pool: "default_pool", needed: 1, open: 0, total: 128 }])),
    );
    // One reason for all of them: its note is rendered once per sweep, not once per waiting task.
    expect(new Set(waiting.map((w) => w.reason)).size).toBe(1);
  });

  test("600 random cases: the same reasons as the fair order gives them", () => {
    const rand = lcg(20261204);
    const teams = ["alpha", "beta"];
    const dags = ["d1", "d2"];
    const pools = ["p1", "p2", "gone"];
    let nothingFits = 0;
    for (let k = 0; k < 600; k++) {
      const cands = Array.from({ length: 1 + rand(12) }, () => {
        const maxTis = rand(4) === 0 ? rand(3) : undefined;
        return candidate(teams[rand(2)]!, dags[rand(2)]!, pools[rand(3)]!, {
          slots: 1 + rand(3),
          weight: rand(4),
          maxActiveTasks: 1 + rand(4),
          inline: rand(2) === 0,
          ...(maxTis !== undefined ? { maxActiveTisPerDag: maxTis } : {}),
        });
      });
      const quota = (): TeamQuotas => ({
        max_running_tasks: rand(3) === 0 ? rand(4) : null,
        max_pool_slots: rand(3) === 0 ? rand(6) : null,
        max_inline_requests: rand(3) === 0 ? rand(3) : null,
      });
      const limits: CapacityLimits = {
        parallelism: 1_000,
        running: rand(50),
        runningByDag: new Map(teams.flatMap((t) => dags.map((d) => [teamKey(t, d), rand(5)] as [string, number]))),
        poolOpenSlots: new Map(teams.flatMap((t) => ["p1", "p2"].map((p) => [teamKey(t, p), rand(4) - 1] as [string, number]))),
        poolTotalSlots: new Map(teams.flatMap((t) => ["p1", "p2"].map((p) => [teamKey(t, p), 2 + rand(3)] as [string, number]))),
        teamQuotas: new Map(teams.map((t) => [t, quota()])),
        teamUsage: new Map(teams.map((t) => [t, { tasks: rand(4), pool_slots: rand(6), inline: rand(3) }])),
        runningByTask: new Map(cands.map((c) => [taskKey(c.ti), rand(3)])),
      };
      const alone = selectDispatchable(cands, limits);
      if (alone.dispatch.length) continue;
      nothingFits++;
      // One candidate of its own team, DAG and pool that fits: the ordered path runs, and taking it changes no
      // other candidate's holdings (parallelism is far).
      const fits = candidate("zz-own", "own", "own", { maxActiveTasks: 1 });
      const withOne = selectDispatchable([...cands, fits], {
        ...limits,
        poolOpenSlots: new Map([...limits.poolOpenSlots!, [teamKey("zz-own", "own"), 1]]),
        poolTotalSlots: new Map([...limits.poolTotalSlots!, [teamKey("zz-own", "own"), 1]]),
      });
      expect(withOne.dispatch).toEqual([fits]);
      expect(reasonsById(alone.waiting)).toEqual(reasonsById(withOne.waiting));
      // In the order given, not the fair order: the shortcut, not the ordered path, answered.
      expect(alone.waiting.map((w) => w.candidate)).toEqual(cands);
    }
    expect(nothingFits).toBeGreaterThan(100);
  });
});
