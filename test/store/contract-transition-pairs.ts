/**
 * Store contract for batches that move a task instance twice (issue 18): an inline start writes
 * none → scheduled → running in one applyTransitions call, and Postgres writes such a batch as one statement.
 * Whatever the store does, the answer and the rows must be those of applying the batch in order: the second
 * change sees the row as the first left it, each may lose its race on its own.
 */
import { describe, expect, test } from "bun:test";
import type { TaskTransition } from "../../src/domain";
import type { Store } from "../../src/store";
import { runOfBashTasks, T0 } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);
const TASKS = ["a", "b", "c"];

async function tasksOf(store: Store) {
  const snap = await runOfBashTasks(store, "pairs", TASKS);
  const byTask = new Map(snap.tis.map((ti) => [ti.task_id, ti]));
  return { a: byTask.get("a")!, b: byTask.get("b")!, c: byTask.get("c")! };
}

const schedule = (id: number, over: Partial<TaskTransition> = {}): TaskTransition => ({
  id,
  from: ["none"],
  to: "scheduled",
  try_number: 1,
  patch: { note: "waiting for a slot", wait_reason: "pool_full" },
  ...over,
});
const start = (id: number, over: Partial<TaskTransition> = {}): TaskTransition => ({
  id,
  from: ["scheduled"],
  to: "running",
  try_number: 1,
  patch: { start_date: at(5), hostname: "inline" },
  ...over,
});

export function transitionPairsContract(getStore: () => Store): void {
  describe("applyTransitions moving a task instance twice in one batch", () => {
    test("both apply: the row has both patches, and the second change's cleared wait_reason", async () => {
      const store = getStore();
      const { a } = await tasksOf(store);
      expect(await store.applyTransitions([schedule(a.id), start(a.id)], at(5))).toEqual([true, true]);
      expect(await store.getTaskInstanceById(a.id)).toMatchObject({
        state: "running",
        note: "waiting for a slot",
        wait_reason: null,
        start_date: at(5),
        hostname: "inline",
        updated_at: at(5),
      });
    });

    test("the first loses its race and the second applies to the row as it is; rows changed once are answered alongside", async () => {
      const store = getStore();
      const { a, b, c } = await tasksOf(store);
      await store.applyTransitions([schedule(a.id, { patch: {} })], at(1)); // already scheduled
      const applied = await store.applyTransitions(
        [schedule(a.id), schedule(b.id), { id: c.id, from: ["running"], to: "success" }, start(a.id), start(b.id)],
        at(5),
      );
      expect(applied).toEqual([false, true, false, true, true]);
      expect(await store.getTaskInstanceById(a.id)).toMatchObject({ state: "running", note: null, hostname: "inline" });
      expect(await store.getTaskInstanceById(b.id)).toMatchObject({ state: "running", note: "waiting for a slot" });
      expect((await store.getTaskInstanceById(c.id))!.state).toBe("none");
    });

    test("the first applies and the second does not (another try, or a from-state the first does not leave)", async () => {
      const store = getStore();
      const { a, b } = await tasksOf(store);
      const applied = await store.applyTransitions(
        [schedule(a.id), schedule(b.id), start(a.id, { try_number: 2 }), start(b.id, { from: ["queued"] })],
        at(5),
      );
      expect(applied).toEqual([true, true, false, false]);
      for (const ti of [a, b])
        expect(await store.getTaskInstanceById(ti.id)).toMatchObject({ state: "scheduled", wait_reason: "pool_full", start_date: null });
    });

    test("the first fails and the second applies from the row's own state; neither applies when neither can", async () => {
      const store = getStore();
      const { a, b } = await tasksOf(store);
      const skip = (id: number): TaskTransition => ({ id, from: ["none"], to: "skipped", patch: { note: "skipped" } });
      const applied = await store.applyTransitions(
        [{ id: a.id, from: ["running"], to: "success" }, { id: b.id, from: ["queued"], to: "running" }, skip(a.id), start(b.id)],
        at(5),
      );
      expect(applied).toEqual([false, false, true, false]);
      expect(await store.getTaskInstanceById(a.id)).toMatchObject({ state: "skipped", note: "skipped" });
      expect((await store.getTaskInstanceById(b.id))!.state).toBe("none");
    });

    test("a first change that sets the try: the second's guard is checked against the new try", async () => {
      const store = getStore();
      const { a, b } = await tasksOf(store);
      const retry = (id: number) => schedule(id, { try_number: undefined, patch: { try_number: 2 } });
      const applied = await store.applyTransitions([retry(a.id), retry(b.id), start(a.id, { try_number: 2 }), start(b.id)], at(5));
      expect(applied).toEqual([true, true, true, false]);
      expect(await store.getTaskInstanceById(a.id)).toMatchObject({ state: "running", try_number: 2 });
      expect(await store.getTaskInstanceById(b.id)).toMatchObject({ state: "scheduled", try_number: 2 });
    });
  });
}
