/**
 * Store contract for a task instance's user note (Airflow's task instance note): a user writes it through an operator
 * change (user_notes), apart from `note`, the system's reason, which the scheduler, agents and reapers rewrite. Found
 * by a tester: a note a user wrote was replaced by the scheduler's next reason. The user's note stays through the
 * system's writes, a retry and a clear; it is in every read the API makes and in none the scheduler makes.
 */
import { describe, expect, test } from "bun:test";
import { ValidationError } from "../../src/domain";
import type { Store } from "../../src/store";
import { runOfBashTasks, T0 } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);
const USER = "INC-42: the vendor's feed is late; ask ada before a rerun";

export function userNotesContract(getStore: () => Store): void {
  describe("a task instance's user note", () => {
    /** The user's note and the system's note of task `a` as the API's lookup reads them. */
    const notesOf = async (store: Store, taskId = "a") => {
      const ti = (await store.getTaskInstance("default", "notes", "r1", taskId))!;
      return { user_note: ti.user_note, note: ti.note };
    };

    test("stays through the system's notes, a failed try's reason, a retry and a clear", async () => {
      const store = getStore();
      const { run, tis } = await runOfBashTasks(store, "notes", ["a", "b"]);
      const a = tis.find((t) => t.task_id === "a")!;
      expect(await store.applyOperatorChange({ user_notes: [{ id: a.id, note: USER }] }, at(1))).toEqual({
        transitions: [],
        clears: [],
        runs: [],
        user_notes: [true],
      });
      expect(await notesOf(store)).toEqual({ user_note: USER, note: null });
      expect(await notesOf(store, "b")).toEqual({ user_note: null, note: null });

      // The scheduler's waiting note, then a try that fails with the agent's reason, are the system's.
      await store.setTaskInstanceNotes([{ id: a.id, state: "none", note: "waiting for 1 slot in pool p", wait_reason: "pool_full" }]);
      expect(await notesOf(store)).toEqual({ user_note: USER, note: "waiting for 1 slot in pool p" });
      await store.applyTransitions([{ id: a.id, from: ["none"], to: "scheduled", patch: { note: null } }], at(2));
      await store.applyTransitions([{ id: a.id, from: ["scheduled"], to: "queued", patch: { queued_at: at(3) } }], at(3));
      await store.applyTransitions([{ id: a.id, from: ["queued"], to: "running", patch: { start_date: at(4) } }], at(4));
      await store.applyTransitions(
        [{ id: a.id, from: ["running"], to: "up_for_retry", try_number: 1, patch: { end_date: at(5), note: "exit code 1" } }],
        at(5),
      );
      expect(await notesOf(store)).toEqual({ user_note: USER, note: "exit code 1" });
      // The retry: try 2 starts from none, its note the system's to write again.
      await store.applyTransitions([{ id: a.id, from: ["up_for_retry"], to: "none", patch: { try_number: 2, note: null } }], at(6));
      expect(await notesOf(store)).toEqual({ user_note: USER, note: null });
      await store.applyTransitions([{ id: a.id, from: ["none"], to: "failed", patch: { note: "exit code 2" } }], at(7));
      // A clear wipes what described the try, the system's note with it; the user's stays (Airflow keeps it too).
      expect(
        (await store.applyOperatorChange({ clears: [{ id: a.id, from: "failed", from_try: 2, try_number: 3, max_tries: 0 }] }, at(8)))
          .clears,
      ).toEqual([true]);
      const cleared = (await store.getTaskInstance("default", "notes", "r1", "a"))!;
      expect([cleared.state, cleared.try_number, cleared.note, cleared.user_note]).toEqual(["none", 3, null, USER]);
      // The other task instance was never noted.
      expect(await notesOf(store, "b")).toEqual({ user_note: null, note: null });
      expect(run.id).toBe(cleared.dag_run_id);
    });

    test("is in every read the API makes; the scheduler's reads neither carry it nor see its write as a change", async () => {
      const store = getStore();
      const { run, tis } = await runOfBashTasks(store, "notes", ["a", "b"]);
      const [a, b] = [tis.find((t) => t.task_id === "a")!, tis.find((t) => t.task_id === "b")!];
      const known = new Map(tis.map((t) => [t.id, { id: t.id, state: t.state, try_number: t.try_number, updated_at: t.updated_at }]));
      await store.applyOperatorChange({ user_notes: [{ id: a.id, note: USER }] }, at(9));

      const shown = (list: readonly { task_id: string; user_note?: string | null }[]) =>
        Object.fromEntries(list.map((t) => [t.task_id, t.user_note]));
      expect(shown((await store.listTaskInstances("default", "notes", "r1")).items)).toEqual({ a: USER, b: null });
      expect(shown((await store.findTaskInstances("default", { dag_id: "notes" })).items)).toEqual({ a: USER, b: null });
      expect(shown(await store.listTaskInstancesByIds([b.id, a.id, 999_999]))).toEqual({ a: USER, b: null });
      expect((await store.listTaskInstancesByIds([b.id, a.id])).map((t) => t.task_id)).toEqual(["a", "b"]);
      expect(await store.listTaskInstancesByIds([])).toEqual([]);

      // A note is no part of the task instance's state: nothing the scheduler follows changed.
      const [changes] = await store.loadRunChanges([run.id], known);
      expect(changes!.tis).toEqual([]);
      expect((await store.getTaskInstance("default", "notes", "r1", "a"))!.updated_at).toEqual(a.updated_at);
      const [snap] = await store.loadRunSnapshots([run.id]);
      expect(snap!.tis.map((t) => t.user_note)).toEqual([undefined, undefined]);
    });

    test("null clears it, leaving the system's reason; a note for a deleted task instance applies nowhere", async () => {
      const store = getStore();
      const { tis } = await runOfBashTasks(store, "notes", ["a"]);
      const a = tis[0]!;
      await store.applyTransitions([{ id: a.id, from: ["none"], to: "failed", patch: { note: "exit code 1" } }], at(1));
      await store.applyOperatorChange({ user_notes: [{ id: a.id, note: USER }] }, at(2));
      await store.applyOperatorChange({ user_notes: [{ id: a.id, note: null }] }, at(3));
      expect(await notesOf(store)).toEqual({ user_note: null, note: "exit code 1" });
      expect(await store.deleteDagRun("default", "notes", "r1")).toBe(true);
      expect((await store.applyOperatorChange({ user_notes: [{ id: a.id, note: USER }] }, at(4))).user_notes).toEqual([false]);
    });

    test("text no store can keep (a NUL) is refused, naming the note, and nothing of the change is written", async () => {
      const store = getStore();
      const { tis } = await runOfBashTasks(store, "notes", ["a"]);
      const a = tis[0]!;
      const change = {
        transitions: [{ id: a.id, from: ["none" as const], to: "failed" as const }],
        user_notes: [{ id: a.id, note: "bad\u0000byte" }],
      };
      const refused = await store.applyOperatorChange(change, at(1)).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ValidationError);
      expect((refused as Error).message).toStartWith("note ");
      const ti = (await store.getTaskInstance("default", "notes", "r1", "a"))!;
      expect([ti.state, ti.user_note]).toEqual(["none", null]);
    });
  });
}
