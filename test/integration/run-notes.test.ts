/**
 * A run's note is its user's. Found by a tester: a note given at the trigger ("investigating INC-42") was replaced by
 * the scheduler's "task(s) failed: fail" when the run failed. The scheduler writes its reason only over no note or
 * one of its own. Through the real loop and store, both stores.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { parseDagSpec } from "../../src/domain/schemas";
import { silentLogger } from "../../src/observability";
import { SchedulerLoop, buildDagRun } from "../../src/scheduler";
import type { Store } from "../../src/store";
import { forEachStore } from "../support/stores";

let store: Store;
const now = new Date("2026-03-01T12:00:00Z");

forEachStore((backend) => {
  beforeEach(async () => {
    store = await backend.open();
    await store.migrate();
  });
  afterEach(async () => store.close());

  /** A run of a one-task DAG with `note`, whose task failed for good: the loop ends the run. */
  async function failedRun(runId: string, note: string | null) {
    const spec = parseDagSpec({ dag_id: "notes", tasks: [{ task_id: "t", operator: "bash", bash_command: "exit 1" }] });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/notes.json", pausedOnCreate: false, now });
    const run = await store.createDagRun(buildDagRun(dag, { run_id: runId, run_type: "manual", logical_date: null, note }, now));
    await store.setDagRunState(run.id, ["queued"], "running", now);
    const ti = (await store.getTaskInstance("default", "notes", runId, "t"))!;
    await store.applyTransitions([{ id: ti.id, from: ["none"], to: "failed", patch: { end_date: now, note: "exit code 1" } }], now);
    const loop = new SchedulerLoop({
      store,
      dispatcher: { dispatch: async () => {} },
      logger: silentLogger,
      sweepIntervalMs: 60_000,
      parallelism: 8,
      now: () => now,
    });
    loop.wake();
    for (let i = 0; i < 3; i++) await loop.tick();
    await loop.stop();
    return (await store.getDagRunById(run.id))!;
  }

  test("a note the user gave stays when the run fails; a run without one gets the scheduler's reason", async () => {
    const kept = await failedRun("with-note", "investigating INC-42");
    expect([kept.state, kept.note]).toEqual(["failed", "investigating INC-42"]);
    const plain = await failedRun("without", null);
    expect([plain.state, plain.note]).toEqual(["failed", "task(s) failed: t"]);
  });
});
