/**
 * The loop does not read back what it wrote itself: a large run's tasks left waiting for a slot are scheduled
 * by the loop, and its held copy of the run takes those rows as written (LiveSnapshots.ownWrite), so the next
 * tick reads only what others changed. Before, the next tick read every waiting row again (10,000 in a
 * 10,000-task fan-out). On both stores, whose rows the held copy must then equal.
 */
import { afterEach, expect, test } from "bun:test";
import type { Store } from "../../src/store";
import { parseDagSpec } from "../../src/domain/schemas";
import { SchedulerLoop } from "../../src/scheduler/loop";
import { LIVE_SNAPSHOT_MIN_TASKS } from "../../src/scheduler/live-snapshots";
import { buildDagRun } from "../../src/scheduler/trigger";
import { silentLogger } from "../../src/observability";
import { FakeClock } from "../support/clock";
import { forEachStore } from "../support/stores";
import { overriding } from "../../src/store/decorate";

const FAN = LIVE_SNAPSHOT_MIN_TASKS + 36;
const SLOTS = 4;

let store: Store | null = null;
afterEach(async () => {
  await store?.close();
  store = null;
});

forEachStore((backend) => {
  test(`${backend.name}: the rows a tick scheduled are not read back by the next; what others wrote is`, async () => {
    store = await backend.open();
    await store.migrate();
    const s = store;
    const clock = new FakeClock("2026-11-01T00:00:00Z");
    const spec = parseDagSpec({
      dag_id: "own_writes",
      max_active_tasks: SLOTS,
      tasks: Array.from({ length: FAN }, (_, i) => ({ task_id: `f${i}`, operator: "bash", bash_command: "true" })),
    });
    const dag = await s.upsertDag("default", { spec, fileloc: "/dags/own_writes.json", pausedOnCreate: false, now: clock.now() });
    const run = await s.createDagRun(buildDagRun(dag, { run_id: "r1", run_type: "manual", logical_date: null }, clock.now()));
    let changedRowsRead = 0;
    const counting = overriding(s, {
      loadRunChanges: async (...args) => {
        const changes = await s.loadRunChanges(...args);
        changedRowsRead += changes.reduce((n, c) => n + c.tis.length, 0);
        return changes;
      },
    });
    const launched: number[] = [];
    const loop = new SchedulerLoop({
      store: counting,
      dispatcher: { dispatch: async (ti) => void launched.push(ti.id) },
      logger: silentLogger,
      sweepIntervalMs: 60_000,
      parallelism: 100,
      clock,
    });
    loop.start();
    loop.wake(run.id);
    await loop.idle();
    expect(launched.length).toBe(SLOTS);
    const tis = (await s.listTaskInstances("default", "own_writes", "r1", { limit: 1000 })).items;
    expect(tis.filter((t) => t.state === "scheduled").length).toBe(FAN - SLOTS);

    // An agent finishes one launched try; the loop is woken as the RPC service would wake it.
    clock.advance(1_000);
    const done = launched[0]!;
    await s.applyTransitions([{ id: done, from: ["queued"], to: "running", try_number: 1 }], clock.now());
    await s.applyTransitions([{ id: done, from: ["running"], to: "success", try_number: 1 }], clock.now());
    changedRowsRead = 0;
    loop.wake(run.id);
    await loop.idle();
    await loop.stop();
    // Read back: the ended try and the other launched ones (queued by the loop's dispatch, not by a schedule
    // write it keeps), not the FAN - SLOTS rows it scheduled.
    expect(changedRowsRead).toBeLessThanOrEqual(SLOTS);
    expect(launched.length).toBe(SLOTS + 1);
    // The held copy was right: the next task launched is a waiting one, and the run's rows say so.
    const after = (await s.listTaskInstances("default", "own_writes", "r1", { limit: 1000 })).items;
    expect(after.filter((t) => t.state === "queued").length).toBe(SLOTS);
    expect(after.filter((t) => t.state === "scheduled").length).toBe(FAN - SLOTS - 1);
  });
});
