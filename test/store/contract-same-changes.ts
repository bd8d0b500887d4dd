/**
 * Store contract for large batches of equal changes (issue 18): the first sweep after a start schedules
 * thousands of roots with one waiting note, and Postgres writes each group of equal changes as one UPDATE
 * over their ids. Whatever the store does, every answer and every row must be those of applying the changes
 * one by one: a row in another state or on another try is left alone, an absent patch field keeps its
 * column where a null one clears it.
 */
import { describe, expect, test } from "bun:test";
import type { TaskInstanceRecord, TaskTransition } from "../../src/domain";
import type { Store } from "../../src/store";
import { runOfBashTasks, T0 } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);
const TASKS = Array.from({ length: 200 }, (_, i) => `t${String(i).padStart(3, "0")}`);

/** A run of 200 independent tasks; its task instances in task order. */
async function taskInstances(store: Store): Promise<TaskInstanceRecord[]> {
  const { tis } = await runOfBashTasks(store, "same", TASKS);
  return [...tis].sort((a, b) => a.task_id.localeCompare(b.task_id));
}

const waiting = { note: "waiting for a slot in pool default_pool", wait_reason: "pool_full" as const };

export function sameChangesContract(getStore: () => Store): void {
  describe("applyTransitions with many equal changes", () => {
    test("each answer and row is that of applying the changes one by one", async () => {
      const store = getStore();
      const tis = await taskInstances(store);
      const ids = tis.map((ti) => ti.id);
      // Five rows are already scheduled (their change loses its race); the last hundred carry a user's note.
      await store.applyTransitions(
        ids.slice(0, 5).map((id) => ({ id, from: ["none"], to: "scheduled" })),
        at(1),
      );
      await store.setTaskInstanceNotes(ids.slice(100).map((id) => ({ id, state: "none" as const, note: "keep me" })));
      const batch: TaskTransition[] = [
        // 95 equal changes, then 5 on another try (none of these rows is on try 2).
        ...ids
          .slice(0, 100)
          .map((id, i) => ({ id, from: ["none" as const], to: "scheduled" as const, try_number: i < 95 ? 1 : 2, patch: waiting })),
        // 80 that clear the note, then 20 that leave it: equal but for a patch field absent or null.
        ...ids.slice(100, 180).map((id) => ({ id, from: ["none" as const], to: "scheduled" as const, patch: { note: null } })),
        ...ids.slice(180).map((id) => ({ id, from: ["none" as const], to: "scheduled" as const })),
      ];
      const applied = await store.applyTransitions(batch, at(5));
      expect(applied).toEqual(ids.map((_, i) => !(i < 5 || (i >= 95 && i < 100))));

      const after = new Map((await store.loadRunSnapshots([tis[0]!.dag_run_id]))[0]!.tis.map((ti) => [ti.id, ti]));
      const row = (i: number) => after.get(ids[i]!)!;
      expect(row(0)).toMatchObject({ state: "scheduled", note: null, wait_reason: null, updated_at: at(1) });
      expect(row(5)).toMatchObject({ state: "scheduled", ...waiting, updated_at: at(5) });
      expect(row(94)).toMatchObject({ state: "scheduled", ...waiting, updated_at: at(5) });
      expect(row(95)).toMatchObject({ state: "none", note: null, wait_reason: null });
      expect(row(100)).toMatchObject({ state: "scheduled", note: null, wait_reason: null, updated_at: at(5) });
      expect(row(179)).toMatchObject({ state: "scheduled", note: null });
      expect(row(180)).toMatchObject({ state: "scheduled", note: "keep me", wait_reason: null, updated_at: at(5) });
      expect(row(199)).toMatchObject({ state: "scheduled", note: "keep me" });
    });

    test("a shared patch with dates and nulls is written to every row; a change with no from-states applies nowhere", async () => {
      const store = getStore();
      const ids = (await taskInstances(store)).map((ti) => ti.id);
      await store.applyTransitions(
        ids.map((id) => ({ id, from: ["none"], to: "scheduled", patch: waiting })),
        at(1),
      );
      const queue = (id: number): TaskTransition => ({
        id,
        from: ["scheduled"],
        to: "queued",
        try_number: 1,
        patch: { queued_at: at(3), executor: "subprocess", note: null },
      });
      const applied = await store.applyTransitions(
        [...ids.slice(0, 100).map(queue), ...ids.slice(100).map((id) => ({ ...queue(id), from: [] }))],
        at(3),
      );
      expect(applied).toEqual(ids.map((_, i) => i < 100));
      const after = new Map(
        (await store.loadRunSnapshots([(await store.getTaskInstanceById(ids[0]!))!.dag_run_id]))[0]!.tis.map((ti) => [ti.id, ti]),
      );
      expect(after.get(ids[0]!)).toMatchObject({
        state: "queued",
        queued_at: at(3),
        executor: "subprocess",
        note: null,
        wait_reason: null,
      });
      expect(after.get(ids[99]!)).toMatchObject({ state: "queued", queued_at: at(3), executor: "subprocess" });
      expect(after.get(ids[100]!)).toMatchObject({ state: "scheduled", queued_at: null, ...waiting });
    });

    test("changes alike but for their number of from-states or a try guard each apply as their own (one statement per shape)", async () => {
      const store = getStore();
      const ids = (await taskInstances(store)).map((ti) => ti.id);
      await store.applyTransitions(
        ids.slice(0, 50).map((id) => ({ id, from: ["none"], to: "scheduled" })),
        at(1),
      );
      // Rows 0-49 scheduled, 50-199 none. Alternating shapes: one from-state, two, two with a try guard.
      const batch: TaskTransition[] = ids.map((id, i) =>
        i % 3 === 0
          ? { id, from: ["none"], to: "upstream_failed" }
          : i % 3 === 1
            ? { id, from: ["none", "scheduled"], to: "upstream_failed" }
            : { id, from: ["none", "scheduled"], to: "upstream_failed", try_number: i < 100 ? 1 : 2 },
      );
      const applied = await store.applyTransitions(batch, at(5));
      expect(applied).toEqual(ids.map((_, i) => (i % 3 === 0 ? i >= 50 : i % 3 === 1 ? true : i < 100)));
      const after = new Map(
        (await store.loadRunSnapshots([(await store.getTaskInstanceById(ids[0]!))!.dag_run_id]))[0]!.tis.map((ti) => [ti.id, ti]),
      );
      ids.forEach((id, i) => {
        expect(after.get(id)!.state).toBe(applied[i] ? "upstream_failed" : i < 50 ? "scheduled" : "none");
      });
    });
  });

  // Postgres writes a batch whose rows all set the same patch fields (with values of their own) naming only those
  // fields: an inline fan-out's ends and its starts. The rows must still come out as applying each change alone.
  describe("applyTransitions with rows setting the same fields, each its own values", () => {
    test("each row gets its own values, keeps the fields its patch does not set, and loses its wait", async () => {
      const store = getStore();
      const ids = (await taskInstances(store)).map((ti) => ti.id).slice(0, 12);
      // All waiting with a note; then started with host and pid (rows 10-11 stay scheduled: their end loses).
      await store.applyTransitions(
        ids.map((id) => ({ id, from: ["none"], to: "scheduled", patch: waiting })),
        at(1),
      );
      await store.applyTransitions(
        ids.slice(0, 10).map((id, i) => ({
          id,
          from: ["scheduled"],
          to: "running",
          try_number: 1,
          patch: { start_date: at(2 + i), hostname: `host-${i}`, pid: 100 + i, executor: "subprocess", note: null },
        })),
        at(2),
      );
      // The ends: each its own end date and note (a null note clears, a text one is written); row 9's try guard
      // names another try, rows 10-11 are not running.
      const ends: TaskTransition[] = ids.map((id, i) => ({
        id,
        from: ["running"],
        to: i % 2 ? "failed" : "success",
        try_number: i === 9 ? 2 : 1,
        patch: { end_date: at(20 + i), note: i % 2 ? `failed ${i}` : null },
      }));
      const applied = await store.applyTransitions(ends, at(30));
      expect(applied).toEqual(ids.map((_, i) => i < 9));

      const after = new Map(
        (await store.loadRunSnapshots([(await store.getTaskInstanceById(ids[0]!))!.dag_run_id]))[0]!.tis.map((ti) => [ti.id, ti]),
      );
      ids.forEach((id, i) => {
        const row = after.get(id)!;
        if (i < 9)
          expect(row).toMatchObject({
            state: i % 2 ? "failed" : "success",
            end_date: at(20 + i),
            note: i % 2 ? `failed ${i}` : null,
            start_date: at(2 + i),
            hostname: `host-${i}`,
            pid: 100 + i,
            executor: "subprocess",
            wait_reason: null,
            updated_at: at(30),
          });
        else if (i === 9) expect(row).toMatchObject({ state: "running", end_date: null, hostname: "host-9", updated_at: at(2) });
        else expect(row).toMatchObject({ state: "scheduled", end_date: null, start_date: null, ...waiting, updated_at: at(1) });
      });
    });
  });
}
