/**
 * A task scheduled in the same tick that leaves it waiting for capacity gets its waiting note and reason in
 * the one row write that schedules it (not a second, note-only write): a first sweep leaves thousands so.
 * What people read (note, wait_reason) is what it was with two writes. Real stores, the real planner.
 */
import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../src/domain/schemas";
import { silentLogger } from "../../src/observability";
import { SchedulerLoop } from "../../src/scheduler";
import type { Store } from "../../src/store";
import { forEachStore } from "../support/stores";
import { overriding } from "../../src/store/decorate";

const RUNS = 3;
const WAIT = "parallelism (1) reached: 1 task instances queued or running";

forEachStore((backend) => {
  describe("waiting notes", () => {
    test("a task scheduled and left waiting in one tick is written once, with its note; later ticks leave it be", async () => {
      const store = await backend.open();
      try {
        await store.migrate();
        const now = new Date("2026-01-01T00:00:00Z");
        await seed(store, now);
        const writes = new Map<number, number>();
        const counted = (ids: readonly { id: number }[]) => {
          for (const { id } of ids) writes.set(id, (writes.get(id) ?? 0) + 1);
        };
        const counting = overriding(store, {
          applyTransitions: (ts, at) => (counted(ts), store.applyTransitions(ts, at)),
          setTaskInstanceNotes: (ns) => (counted(ns), store.setTaskInstanceNotes(ns)),
        });
        const dispatched: number[] = [];
        const loop = new SchedulerLoop({
          store: counting,
          dispatcher: { dispatch: async (ti) => void dispatched.push(ti.id) },
          logger: silentLogger,
          sweepIntervalMs: 3_600_000,
          tickTimeoutMs: 3_600_000,
          parallelism: 1,
          now: () => now,
        });
        expect(await loop.tick()).toMatchObject({ runs: RUNS, dispatched: 1 });
        const roots = async () => (await store.loadRunSnapshots(await store.listActiveRunIds())).map((s) => s.tis[0]!);
        const first = await roots();
        const waiting = first.filter((t) => t.state === "scheduled");
        expect(first.filter((t) => t.state === "queued").map((t) => [t.note, t.wait_reason])).toEqual([[null, null]]);
        expect(waiting.map((t) => [t.note, t.wait_reason])).toEqual(Array(RUNS - 1).fill([WAIT, "parallelism"]));
        for (const t of waiting) expect(writes.get(t.id)).toBe(1);

        // Still waiting with the same note: a sweep writes nothing for them.
        writes.clear();
        loop.wake();
        expect(await loop.tick()).toMatchObject({ dispatched: 0 });
        for (const t of waiting) expect(writes.get(t.id)).toBeUndefined();
        expect((await roots()).filter((t) => t.state === "scheduled").map((t) => t.note)).toEqual(Array(RUNS - 1).fill(WAIT));

        // The slot frees: one waiting task is queued and its note is cleared; the other keeps its own.
        const running = first.find((t) => t.state === "queued")!;
        await store.applyTransitions([{ id: running.id, from: ["queued"], to: "success", patch: { end_date: now } }], now);
        loop.wake();
        expect(await loop.tick()).toMatchObject({ dispatched: 1 });
        const after = await roots();
        const queued = after.filter((t) => t.state === "queued");
        expect(queued.map((t) => [t.note, t.wait_reason])).toEqual([[null, null]]);
        expect(after.filter((t) => t.state === "scheduled").map((t) => [t.note, t.wait_reason])).toEqual([[WAIT, "parallelism"]]);
      } finally {
        await store.close();
      }
    });
  });
});

/** RUNS queued runs of one task each. */
async function seed(store: Store, now: Date): Promise<void> {
  const spec = parseDagSpec({
    dag_id: "few",
    max_active_runs: RUNS,
    tasks: [{ task_id: "a", operator: "bash", bash_command: "true" }],
  });
  const dag = await store.upsertDag("default", { spec, fileloc: "/dags/few.json", pausedOnCreate: false, now });
  for (let i = 0; i < RUNS; i++)
    await store.createDagRun({
      team: "default",
      dag_id: "few",
      run_id: `r${i}`,
      run_type: "manual",
      logical_date: null,
      data_interval_start: null,
      data_interval_end: null,
      conf: {},
      version_id: dag.version_id,
      queued_at: now,
      tasks: [{ task_id: "a", operator: "bash", max_tries: 0, pool: "default_pool", pool_slots: 1, priority_weight: 1 }],
    });
}
