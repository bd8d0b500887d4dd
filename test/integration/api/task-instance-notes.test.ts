/**
 * A task instance's note is its user's, as Airflow's TI note. Found by a tester: a note written in the UI ("INC-42 …")
 * was replaced by the scheduler's next reason (a full pool, an exit code) and lost. The API answers the user's note
 * wherever it shows the task instance, through the system's reasons, a failed try and a clear; a user who clears
 * their note (null or blank) sees the system's reason again. Both stores.
 */
import { describe, expect, test } from "bun:test";
import { etlRunStepping, forEachApiStore, type Harness } from "./harness";

const TI = "/api/v2/dags/etl/dagRuns/r1/taskInstances/extract";
const USER = "INC-42: the vendor's feed is late; ask ada before a rerun";
const POOL = "waiting for 1 slot in pool default_pool (0 of 1 open)";

/** The note of etl/r1/extract in each API read of it: the instance, its run's list, the cross-run list. */
async function notesShown(h: Harness) {
  const one = (await h.json("GET", TI)).body.note;
  const list = (await h.json("GET", "/api/v2/dags/etl/dagRuns/r1/taskInstances")).body.task_instances;
  const across = (await h.json("GET", "/api/v2/dags/~/dagRuns/~/taskInstances?task_id=extract")).body.task_instances;
  return [one, list.find((t: any) => t.task_id === "extract").note, across[0].note];
}

forEachApiStore((makeHarness) => {
  describe("a task instance's note", () => {
    test("a user's note stays through the scheduler's waiting note, a failed try's exit code and a clear", async () => {
      const h = await makeHarness();
      const { ti, step } = await etlRunStepping(h);
      const set = await h.json("PATCH", `${TI}?update_mask=note`, { body: { note: USER } });
      expect([set.status, set.body.task_instances[0].note]).toEqual([200, USER]);

      // The scheduler says why it waits, as it does each tick for a task held by a full pool.
      await h.store.setTaskInstanceNotes([{ id: ti.id, state: "none", note: POOL, wait_reason: "pool_full" }]);
      expect(await notesShown(h)).toEqual([USER, USER, USER]);
      // Why it waits is still said where Airflow says it: the instance's dependencies.
      expect((await h.json("GET", `${TI}/dependencies`)).body.dependencies.map((d: any) => d.reason)).toContain(POOL);

      // The try runs and fails with the agent's reason.
      await step("none", "scheduled", { note: null });
      await step("scheduled", "queued");
      await step("queued", "running");
      await step("running", "failed", { note: "exit code 1" });
      expect(await notesShown(h)).toEqual([USER, USER, USER]);

      // Cleared and re-run: the cleared instance in the answer and afterwards still has the user's note.
      const cleared = await h.json("POST", "/api/v2/dags/etl/clearTaskInstances", {
        body: { dry_run: false, task_ids: ["extract"], only_failed: true },
      });
      expect(cleared.body.task_instances.map((t: any) => [t.task_id, t.state, t.try_number, t.note])).toEqual([["extract", null, 2, USER]]);
      await step("none", "scheduled", { note: POOL, wait_reason: "pool_full" });
      expect(await notesShown(h)).toEqual([USER, USER, USER]);
    });

    test("a user clears their note with null or blank text and sees the system's reason again", async () => {
      const h = await makeHarness();
      const { step } = await etlRunStepping(h);
      await step("none", "scheduled");
      await step("scheduled", "queued");
      await step("queued", "running");
      await step("running", "failed", { note: "exit code 1" });
      expect(await notesShown(h)).toEqual(["exit code 1", "exit code 1", "exit code 1"]);

      for (const clearing of [null, "", "  \n"]) {
        await h.json("PATCH", TI, { body: { note: USER } });
        expect(await notesShown(h)).toEqual([USER, USER, USER]);
        expect((await h.json("GET", TI)).body.user_note).toBe(USER);
        const r = await h.json("PATCH", TI, { body: { note: clearing } });
        expect([r.status, r.body.task_instances[0].note]).toEqual([200, "exit code 1"]);
        // What an editor starts from: the user's note alone, not the system's reason shown in its place.
        expect((await h.json("GET", TI)).body.user_note).toBeNull();
        expect(await notesShown(h)).toEqual(["exit code 1", "exit code 1", "exit code 1"]);
      }
    });

    test("a mark with a note and a bulk update write the user's note; a later system reason does not replace it", async () => {
      const h = await makeHarness();
      const { ti, step } = await etlRunStepping(h);
      await step("none", "scheduled");
      await step("scheduled", "queued");
      await step("queued", "running");
      await step("running", "failed", { note: "exit code 1" });
      const marked = await h.json("PATCH", TI, { body: { new_state: "success", note: "fixed by hand" } });
      expect(marked.body.task_instances.map((t: any) => [t.task_id, t.state, t.note])).toEqual([["extract", "success", "fixed by hand"]]);
      expect(await notesShown(h)).toEqual(["fixed by hand", "fixed by hand", "fixed by hand"]);

      const bulk = await h.json("PATCH", "/api/v2/dags/etl/dagRuns/r1/taskInstances", {
        body: { actions: [{ action: "update", entities: [{ task_id: "extract", note: USER }] }] },
      });
      expect(bulk.body.update).toEqual({ success: ["extract"], errors: [] });
      // A reaper or the scheduler writing its reason over the row changes only the system's note.
      await h.store.setTaskInstanceNotes([{ id: ti.id, state: "success", note: "a system reason" }]);
      expect(await notesShown(h)).toEqual([USER, USER, USER]);
    });

    test("a note the store cannot keep is a 400 naming it, and nothing changes", async () => {
      const h = await makeHarness();
      await etlRunStepping(h);
      await h.json("PATCH", TI, { body: { note: USER } });
      const r = await h.json("PATCH", TI, { body: { new_state: "success", note: "bad\u0000byte" } });
      expect(r.status).toBe(400);
      expect(r.body.detail).toStartWith("note ");
      expect((await h.json("GET", TI)).body).toMatchObject({ state: null, note: USER });
    });
  });
});
