/**
 * Store contract for reliability (issue 7): reaper candidates, guarded reaps that lose races harmlessly,
 * orphaned runs, and the per-try dispatch attempt bookkeeping.
 */
import { describe, expect, test } from "bun:test";
import type { TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";
import { newRun, T0 } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);

async function runOf(store: Store, runId = "r1", taskIds = ["a", "b"], maxTries = 0) {
  const spec = parseDagSpec({ dag_id: "rel", tasks: taskIds.map((task_id) => ({ task_id, operator: "bash", bash_command: "true" })) });
  const dag = await store.upsertDag("default", { spec, fileloc: "/dags/rel.json", pausedOnCreate: false, now: T0 });
  const run = await store.createDagRun(
    newRun(dag, runId, {
      tasks: spec.tasks.map((t) => ({
        task_id: t.task_id,
        operator: t.operator,
        max_tries: maxTries,
        pool: t.pool,
        pool_slots: 1,
        priority_weight: 1,
      })),
    }),
  );
  const ti = async (taskId: string) => (await store.getTaskInstance("default", "rel", runId, taskId))!;
  return { run, ti };
}

/** Moves a task instance along none → scheduled → queued (at `queuedAt`) → running (heartbeat at `hb`). */
async function drive(store: Store, ti: TaskInstanceRecord, to: "scheduled" | "queued" | "running", queuedAt = at(1), hb = at(2)) {
  await store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], at(0));
  if (to === "scheduled") return;
  await store.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "queued", patch: { queued_at: queuedAt } }], queuedAt);
  if (to === "queued") return;
  await store.applyTransitions([{ id: ti.id, from: ["queued"], to: "running", patch: { start_date: hb, last_heartbeat: hb } }], hb);
}

export function reapersContract(getStore: () => Store): void {
  describe("reliability: reapers", () => {
    test("agent-lost candidates are running task instances that heartbeated; the reap is guarded by the heartbeat seen", async () => {
      const store = getStore();
      const { ti } = await runOf(store);
      await drive(store, await ti("a"), "running", at(1), at(2));
      await drive(store, await ti("b"), "queued");
      const cands = await store.listAgentLostCandidates();
      expect(cands).toEqual([
        {
          id: (await ti("a")).id,
          dag_run_id: (await ti("a")).dag_run_id,
          dag_id: "rel",
          run_id: "r1",
          task_id: "a",
          try_number: 1,
          max_tries: 0,
          observed_at: at(2),
        },
      ]);

      // A heartbeat after the read: the reap made on the old observation is a no-op.
      await store.heartbeat(cands[0]!.id, 1, at(30));
      expect(
        await store.reapTaskInstances(
          [{ id: cands[0]!.id, try_number: 1, from: "running", observed_at: at(2), to: "failed", note: "agent_lost: x" }],
          at(100),
        ),
      ).toEqual([false]);
      expect((await ti("a")).state).toBe("running");

      const [again] = await store.listAgentLostCandidates();
      expect(
        await store.reapTaskInstances(
          [{ id: again!.id, try_number: 1, from: "running", observed_at: again!.observed_at, to: "failed", note: "agent_lost: x" }],
          at(100),
        ),
      ).toEqual([true]);
      const a = await ti("a");
      expect([a.state, a.note, a.end_date]).toEqual(["failed", "agent_lost: x", at(100)]);
      // Idempotent: a second sweep finds nothing and a repeated reap changes nothing.
      expect(await store.listAgentLostCandidates()).toEqual([]);
      expect(
        await store.reapTaskInstances(
          [{ id: a.id, try_number: 1, from: "running", observed_at: at(30), to: "failed", note: "again" }],
          at(200),
        ),
      ).toEqual([false]);
      expect((await ti("a")).note).toBe("agent_lost: x");
    });

    test("a candidate names its max_tries; a reap writes the state it is given (up_for_retry while retries are left)", async () => {
      const store = getStore();
      const { ti } = await runOf(store, "r1", ["a", "b"], 2);
      await drive(store, await ti("a"), "running", at(1), at(2));
      await drive(store, await ti("b"), "queued", at(3));
      const [lost] = await store.listAgentLostCandidates();
      const [unclaimed] = await store.listDispatchLostCandidates();
      expect([lost!.max_tries, unclaimed!.max_tries]).toEqual([2, 2]);
      const res = await store.reapTaskInstances(
        [
          { id: lost!.id, try_number: 1, from: "running", observed_at: lost!.observed_at, to: "up_for_retry", note: "agent_lost: z" },
          {
            id: unclaimed!.id,
            try_number: 1,
            from: "queued",
            observed_at: unclaimed!.observed_at,
            to: "up_for_retry",
            note: "dispatch_lost: z",
          },
        ],
        at(100),
      );
      expect(res).toEqual([true, true]);
      const [a, b] = [await ti("a"), await ti("b")];
      expect([a.state, a.note, a.end_date, b.state, b.note]).toEqual([
        "up_for_retry",
        "agent_lost: z",
        at(100),
        "up_for_retry",
        "dispatch_lost: z",
      ]);
    });

    test("dispatch-lost candidates are queued task instances, null queued_at included; a wrong try or state is a no-op", async () => {
      const store = getStore();
      const { ti } = await runOf(store);
      await drive(store, await ti("a"), "queued", at(5));
      await store.applyTransitions([{ id: (await ti("b")).id, from: ["none"], to: "scheduled" }], at(0));
      await store.applyTransitions([{ id: (await ti("b")).id, from: ["scheduled"], to: "queued" }], at(0));
      const cands = await store.listDispatchLostCandidates();
      expect(cands.map((c) => [c.task_id, c.observed_at])).toEqual([
        ["a", at(5)],
        ["b", null],
      ]);
      const a = await ti("a");
      const res = await store.reapTaskInstances(
        [
          { id: a.id, try_number: 2, from: "queued", observed_at: at(5), to: "failed", note: "wrong try" },
          { id: a.id, try_number: 1, from: "running", observed_at: at(5), to: "failed", note: "wrong state" },
          { id: a.id, try_number: 1, from: "queued", observed_at: at(5), to: "failed", note: "dispatch_lost: y" },
        ],
        at(400),
      );
      expect(res).toEqual([false, false, true]);
      expect([(await ti("a")).state, (await ti("a")).note]).toEqual(["failed", "dispatch_lost: y"]);
    });

    test("orphan candidates: running runs without active task instances, with their last activity", async () => {
      const store = getStore();
      const { run, ti } = await runOf(store);
      const { run: busy, ti: busyTi } = await runOf(store, "r2");
      const { run: fresh } = await runOf(store, "r3");
      for (const r of [run, busy, fresh]) await store.setDagRunState(r.id, ["queued"], "running", at(10));
      await drive(store, await busyTi("a"), "running");
      // r1: a finished at 50, b never started.
      await drive(store, await ti("a"), "running", at(20), at(30));
      await store.applyTransitions([{ id: (await ti("a")).id, from: ["running"], to: "success", patch: { end_date: at(50) } }], at(50));
      const cands = await store.listOrphanCandidates();
      expect(cands).toEqual([
        { id: run.id, dag_id: "rel", run_id: "r1", last_activity: at(50) },
        { id: fresh.id, dag_id: "rel", run_id: "r3", last_activity: at(10) },
      ]);

      expect(await store.reapOrphanedRun(run.id, "orphaned: z", at(1000))).toBe(true);
      const after = await store.getDagRunById(run.id);
      expect([after!.state, after!.note, after!.end_date]).toEqual(["failed", "orphaned: z", at(1000)]);
      expect([(await ti("a")).state, (await ti("b")).state, (await ti("b")).note]).toEqual(["success", "failed", "orphaned: z"]);
      // Idempotent, and refused for a run that has an active task instance.
      expect(await store.reapOrphanedRun(run.id, "again", at(2000))).toBe(false);
      expect(await store.reapOrphanedRun(busy.id, "orphaned", at(2000))).toBe(false);
      expect((await store.getDagRunById(busy.id))!.state).toBe("running");
    });
  });

  describe("reliability: depends_on_past is not orphaned", () => {
    test("a running run whose only unfinished task waits on its past is neither a candidate nor reaped", async () => {
      const store = getStore();
      const { run, ti } = await runOf(store);
      await store.setDagRunState(run.id, ["queued"], "running", at(10));
      const a = await ti("a");
      await store.setTaskInstanceNotes([{ id: a.id, state: "none", note: "waiting on the past", wait_reason: "depends_on_past" }]);
      expect((await ti("a")).wait_reason).toBe("depends_on_past");
      expect((await store.listOrphanCandidates()).map((c) => c.id)).not.toContain(run.id);
      expect(await store.reapOrphanedRun(run.id, "orphaned", at(5000))).toBe(false);
      // A note written without a reason (a user's) changes what people read, not why it waits.
      await store.setTaskInstanceNotes([{ id: a.id, state: "none", note: "looking into it" }]);
      expect([(await ti("a")).note, (await ti("a")).wait_reason]).toEqual(["looking into it", "depends_on_past"]);
      expect((await store.listOrphanCandidates()).map((c) => c.id)).not.toContain(run.id);
      // Whatever the note says, a none task not held by its past leaves the run an orphan candidate.
      await store.setTaskInstanceNotes([{ id: a.id, state: "none", note: "depends_on_past: waiting …", wait_reason: null }]);
      expect((await ti("a")).wait_reason).toBeNull();
      expect((await store.listOrphanCandidates()).map((c) => c.id)).toContain(run.id);
    });

    test("a transition ends the wait: the state it was recorded in is left", async () => {
      const store = getStore();
      const { ti } = await runOf(store);
      const a = await ti("a");
      await store.setTaskInstanceNotes([{ id: a.id, state: "none", note: "held", wait_reason: "depends_on_past" }]);
      await store.applyTransitions([{ id: a.id, from: ["none"], to: "scheduled", patch: { note: null } }], at(20));
      expect([(await ti("a")).state, (await ti("a")).wait_reason]).toEqual(["scheduled", null]);
      // A note write for a state the row has left changes nothing.
      expect(await store.setTaskInstanceNotes([{ id: a.id, state: "none", note: "held", wait_reason: "depends_on_past" }])).toEqual([
        false,
      ]);
      expect((await ti("a")).wait_reason).toBeNull();
    });

    test("a transition may record the wait in its new state (alone and in a batch); one that does not clears it", async () => {
      const store = getStore();
      const { ti } = await runOf(store);
      const [a, b] = [await ti("a"), await ti("b")];
      await store.setTaskInstanceNotes([{ id: b.id, state: "none", note: "held", wait_reason: "depends_on_past" }]);
      const poolNote = "waiting for 1 slot in pool p (0 of 1 open)";
      await store.applyTransitions(
        [{ id: a.id, from: ["none"], to: "scheduled", patch: { note: poolNote, wait_reason: "pool_full" } }],
        at(20),
      );
      expect([(await ti("a")).state, (await ti("a")).note, (await ti("a")).wait_reason]).toEqual(["scheduled", poolNote, "pool_full"]);
      expect(
        await store.applyTransitions(
          [
            { id: a.id, from: ["scheduled"], to: "queued", patch: { note: null } },
            { id: b.id, from: ["none"], to: "scheduled", patch: { note: poolNote, wait_reason: "pool_full" } },
          ],
          at(30),
        ),
      ).toEqual([true, true]);
      expect([(await ti("a")).state, (await ti("a")).note, (await ti("a")).wait_reason]).toEqual(["queued", null, null]);
      expect([(await ti("b")).state, (await ti("b")).note, (await ti("b")).wait_reason]).toEqual(["scheduled", poolNote, "pool_full"]);
    });
  });

  describe("reliability: dispatch attempts", () => {
    test("failures count per try; deferring moves queued back to scheduled and holds it until next_at", async () => {
      const store = getStore();
      const { ti } = await runOf(store);
      await drive(store, await ti("a"), "queued");
      const a = await ti("a");
      expect(await store.recordDispatchFailure(a.id, 1, "spawn ENOENT", at(10))).toBe(1);
      expect(await store.deferDispatch(a.id, 1, at(15), "dispatch attempt 1/3 failed: spawn ENOENT; next at …", at(10))).toBe(true);
      const deferred = await ti("a");
      expect([deferred.state, deferred.note]).toEqual(["scheduled", "dispatch attempt 1/3 failed: spawn ENOENT; next at …"]);
      expect(await store.listDispatchBackoffs(at(10))).toEqual([{ ti_id: a.id, try_number: 1, attempts: 1, next_at: at(15) }]);
      expect(await store.listDispatchBackoffs(at(15))).toEqual([]);

      // A failure from scheduled (an inline start) also counts and defers; recording clears next_at.
      expect(await store.recordDispatchFailure(a.id, 1, "boom", at(16))).toBe(2);
      expect(await store.listDispatchBackoffs(at(10))).toEqual([]);
      expect(await store.deferDispatch(a.id, 1, at(26), "attempt 2", at(16))).toBe(true);
      expect(await store.listDispatchBackoffs(at(20))).toEqual([{ ti_id: a.id, try_number: 1, attempts: 2, next_at: at(26) }]);
      // Another try starts from zero; a stale try does not move the task instance.
      expect(await store.recordDispatchFailure(a.id, 2, "x", at(17))).toBe(1);
      expect(await store.deferDispatch(a.id, 2, at(99), "stale", at(17))).toBe(false);
      expect((await ti("a")).note).toBe("attempt 2");
    });

    test("deferring a task instance that moved on (running, failed) changes nothing", async () => {
      const store = getStore();
      const { ti } = await runOf(store);
      await drive(store, await ti("a"), "running");
      const a = await ti("a");
      await store.recordDispatchFailure(a.id, 1, "late", at(10));
      expect(await store.deferDispatch(a.id, 1, at(15), "late", at(10))).toBe(false);
      expect((await ti("a")).state).toBe("running");
    });
  });
}
