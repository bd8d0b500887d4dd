/**
 * withStoreEvents and the API's clear and mark (applyOperatorChange): every applied task and run change of the
 * operator's action reaches the event stream, as the scheduler's own changes do; a part that lost its race
 * (the row moved on since the API read it) emits nothing.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { parseDagSpec } from "../../../src/domain/schemas";
import { openStore, type Store } from "../../../src/store";
import { EventHub, withStoreEvents, type LeoflowEvent, type Subscription } from "../../../src/events";
import { buildDagRun } from "../../../src/scheduler";

const T0 = new Date("2026-01-01T00:00:00Z");
let store: Store;
let hub: EventHub;
beforeEach(async () => {
  const raw = openStore("sqlite::memory:");
  await raw.migrate();
  hub = new EventHub();
  store = withStoreEvents(raw, hub);
});
afterEach(async () => store.close());

async function eventsUntil(sub: Subscription, isLast: (e: LeoflowEvent) => boolean): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (;;) {
    const e = await sub.next();
    if (!e) return out;
    const { id: _id, time: _time, team: _team, dag_id: _dag, ...rest } = e as LeoflowEvent & Record<string, unknown>;
    out.push(rest);
    if (isLast(e)) return out;
  }
}

test("a mark and a clear through applyOperatorChange show on the event stream, lost parts do not", async () => {
  const spec = parseDagSpec({ dag_id: "op", tasks: [{ task_id: "a", operator: "bash", bash_command: "true" }] });
  const dag = await store.upsertDag("default", { spec, fileloc: "/dags/op.json", pausedOnCreate: false, now: T0 });
  const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null, run_id: "r1" }, T0));
  await store.setDagRunState(run.id, ["queued"], "running", T0);
  const ti = (await store.getTaskInstance("default", "op", "r1", "a"))!;
  const sub = hub.subscribe();

  // Mark success: the task and the run; a second run change from a state the run is not in loses.
  const marked = await store.applyOperatorChange(
    {
      transitions: [{ id: ti.id, from: ["none"], to: "success", patch: { note: "marked by alice" } }],
      runs: [
        { id: run.id, from: ["running"], to: "success", note: "marked by alice" },
        { id: run.id, from: ["queued"], to: "failed" },
      ],
    },
    T0,
  );
  expect(marked).toEqual({ transitions: [true], clears: [], runs: [true, false], user_notes: [] });
  // Clear: the task back to none on its next try, the run queued again.
  await store.applyOperatorChange(
    {
      clears: [{ id: ti.id, from: "success", from_try: ti.try_number, try_number: ti.try_number + 1, max_tries: 0 }],
      runs: [{ id: run.id, from: ["success"], to: "queued" }],
    },
    T0,
  );

  expect(await eventsUntil(sub, (e) => e.type === "dag_run.state_changed")).toEqual([
    {
      type: "task_instance.state_changed",
      run_id: "r1",
      task_id: "a",
      map_index: -1,
      try_number: 1,
      state: "success",
      note: "marked by alice",
    },
    { type: "dag_run.finished", run_id: "r1", state: "success", note: "marked by alice" },
    { type: "task_instance.state_changed", run_id: "r1", task_id: "a", map_index: -1, try_number: 2, state: "none", note: null },
    { type: "dag_run.state_changed", run_id: "r1", state: "queued", note: null },
  ]);
});
