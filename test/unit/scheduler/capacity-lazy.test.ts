/**
 * selectDispatchable orders candidates lazily (a heap per team) and stops ordering once parallelism is
 * reached. Same decisions as the full sort it replaced (capacity-reference.ts): over random candidate sets
 * with teams, quotas, pools, priorities and DAG limits, the same tasks go in the same order, and every
 * waiting task gets the same note.
 */
import { describe, expect, test } from "bun:test";
import { renderWaitReason, type TaskInstanceRecord } from "../../../src/domain";
import { selectDispatchable, type CapacityLimits, type DispatchCandidate } from "../../../src/scheduler/capacity";
import { selectDispatchable as referenceSelect } from "./capacity-reference";
import { at } from "./helpers";
import { seededRandom } from "../../support/seeded-random";

/** A deterministic generator of ints below n, so a failure can be replayed by its seed. */
const random = (seed: number): ((n: number) => number) => seededRandom(seed).int;

const TEAMS = ["a", "b", "c"];

function candidates(r: (n: number) => number, n: number): DispatchCandidate[] {
  return Array.from({ length: n }, (_, i) => {
    const team = TEAMS[r(TEAMS.length)]!;
    const ti = {
      id: i + 1,
      team,
      dag_id: `d${r(4)}`,
      run_id: `r${r(3)}`,
      // The natural key is unique within a team, so the order is total (as in a store).
      task_id: `t${r(50)}_${i}`,
      map_index: r(3) - 1,
      pool: r(4) ? "default_pool" : "gpu",
      pool_slots: 1 + r(2),
      priority_weight: 1 + r(3),
      state: "scheduled",
    } as TaskInstanceRecord;
    return { ti, runQueuedAt: at(r(5)), maxActiveTasks: 1 + r(20), inline: r(2) === 0 };
  });
}

function limits(r: (n: number) => number): CapacityLimits {
  const parallelism = 1 + r(40);
  const teamKeys = (name: string) => TEAMS.map((t) => `${t}/${name}`);
  return {
    parallelism,
    running: r(parallelism + 5),
    runningByDag: new Map(TEAMS.flatMap((t) => [0, 1, 2, 3].map((d): [string, number] => [`${t}/d${d}`, r(6)]))),
    poolOpenSlots: new Map([
      ...teamKeys("default_pool").map((k): [string, number] => [k, r(30)]),
      ...teamKeys("gpu").map((k): [string, number] => [k, r(3)]),
    ]),
    poolTotalSlots: new Map([
      ...teamKeys("default_pool").map((k): [string, number] => [k, 128]),
      ...teamKeys("gpu").map((k): [string, number] => [k, 4]),
    ]),
    teamQuotas: new Map(
      TEAMS.filter(() => r(2) === 0).map((t) => [
        t,
        { max_running_tasks: r(2) ? 5 + r(10) : null, max_pool_slots: r(2) ? 10 : null, max_inline_requests: r(2) ? 3 : null },
      ]),
    ),
    teamUsage: new Map(TEAMS.filter(() => r(2) === 0).map((t) => [t, { tasks: r(8), pool_slots: r(8), inline: r(3) }])),
  };
}

/** What a user sees: who goes, in order, and each waiting task's note. */
function decisions(sel: {
  dispatch: DispatchCandidate[];
  waiting: { candidate: DispatchCandidate; reason: Parameters<typeof renderWaitReason>[0] }[];
}) {
  return {
    dispatch: sel.dispatch.map((c) => c.ti.id),
    waiting: Object.fromEntries(sel.waiting.map((w) => [w.candidate.ti.id, renderWaitReason(w.reason)])),
  };
}

describe("selectDispatchable: lazy ordering makes the full sort's decisions", () => {
  test("2,000 random candidate sets and limits: same tasks dispatched in the same order, same notes for the rest", () => {
    for (let seed = 1; seed <= 2_000; seed++) {
      const r = random(seed);
      const cs = candidates(r, 1 + r(120));
      const l = limits(r);
      const lazy = decisions(selectDispatchable(cs, l));
      const full = decisions(referenceSelect(cs, l));
      if (JSON.stringify(lazy) !== JSON.stringify(full)) expect({ seed, ...lazy }).toEqual({ seed, ...full });
      expect(Object.keys(lazy.waiting).length + lazy.dispatch.length).toBe(cs.length);
    }
  });

  // Candidates as a store hands them over: a run's after another's, many asking for the same DAG, pool and slots
  // (the selection reuses its previous candidate's answer for such a one until it takes a candidate).
  test("2,000 random sets of candidates in runs of alike ones: the full sort's decisions", () => {
    for (let seed = 1; seed <= 2_000; seed++) {
      const r = random(seed);
      const cs = candidates(r, 1 + r(120));
      for (let i = 1; i < cs.length; i++) {
        if (r(5) === 0) continue; // a new run of alike candidates starts here
        const prev = cs[i - 1]!;
        cs[i] = {
          ...cs[i]!,
          ti: { ...cs[i]!.ti, team: prev.ti.team, dag_id: prev.ti.dag_id, pool: prev.ti.pool, pool_slots: prev.ti.pool_slots },
          maxActiveTasks: prev.maxActiveTasks,
          inline: prev.inline,
          ...(r(10) === 0 ? { maxActiveTisPerDag: 1 + r(3) } : {}),
        };
      }
      const l = limits(r);
      const lazy = decisions(selectDispatchable(cs, l));
      const full = decisions(referenceSelect(cs, l));
      if (JSON.stringify(lazy) !== JSON.stringify(full)) expect({ seed, ...lazy }).toEqual({ seed, ...full });
      expect(Object.keys(lazy.waiting).length + lazy.dispatch.length).toBe(cs.length);
    }
  });

  test("once a take leaves nothing that fits, the rest are not ordered: they wait with the full sort's notes, in input order", () => {
    const r = random(11);
    // One gpu slot open, 60 candidates wanting it: the first in fair order takes it.
    const cs = candidates(r, 60).map((c) => ({ ...c, ti: { ...c.ti, pool: "gpu", pool_slots: 1 }, maxActiveTasks: 100 }));
    const l: CapacityLimits = {
      parallelism: 1_000,
      running: 0,
      runningByDag: new Map(),
      poolOpenSlots: new Map(TEAMS.map((t): [string, number] => [`${t}/gpu`, t === "a" ? 1 : 0])),
      poolTotalSlots: new Map(TEAMS.map((t): [string, number] => [`${t}/gpu`, 4])),
    };
    const sel = selectDispatchable(cs, l);
    expect(decisions(sel)).toEqual(decisions(referenceSelect(cs, l)));
    expect(sel.dispatch).toHaveLength(1);
    // After the take, the first that did not fit came in fair order; everything after it in the order given.
    const rest = sel.waiting.slice(1).map((w) => w.candidate.ti.id);
    expect(rest).toEqual(cs.map((c) => c.ti.id).filter((id) => rest.includes(id)));
    expect(rest.length).toBeGreaterThan(50);
  });

  test("at parallelism, nothing is ordered: every candidate waits with the parallelism note, in its input order", () => {
    const r = random(7);
    const cs = candidates(r, 50);
    const { dispatch, waiting } = selectDispatchable(cs, { parallelism: 8, running: 8, runningByDag: new Map() });
    expect(dispatch).toEqual([]);
    expect(waiting.map((w) => w.candidate.ti.id)).toEqual(cs.map((c) => c.ti.id));
    expect(new Set(waiting.map((w) => renderWaitReason(w.reason)))).toEqual(
      new Set(["parallelism (8) reached: 8 task instances queued or running"]),
    );
  });
});
