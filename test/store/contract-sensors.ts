/**
 * Store contract for sensors (issue 19): a sensor readied while scheduled, moved to deferred, found only once
 * due, its checks recorded without touching updated_at, and another DAG's states looked up by logical date;
 * a user check in mode reschedule: its progress recorded while it runs, due again up_for_reschedule.
 */
import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";
import { newRun, runTask, T0 } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);
const LOGICAL = new Date("2026-02-01T00:00:00.000Z");

async function sensorRun(store: Store, dagId: string, runId: string, taskIds: string[], team = "default") {
  const spec = parseDagSpec({
    dag_id: dagId,
    tasks: taskIds.map((task_id) => ({ task_id, operator: "sensor", sensor: { kind: "file", path: "/data/ready" } })),
  });
  const dag = await store.upsertDag(team, { spec, fileloc: `/dags/${dagId}.json`, pausedOnCreate: false, now: T0 });
  const run = await store.createDagRun(
    newRun(dag, runId, {
      logical_date: LOGICAL,
      tasks: taskIds.map((task_id) => runTask(task_id, { operator: "sensor" })),
    }),
  );
  const ti = async (taskId: string) => (await store.getTaskInstance(team, dagId, runId, taskId))!;
  return { run, dag, ti };
}

/** none → scheduled, readied, → deferred: what the scheduler does with a control-plane sensor. */
async function defer(store: Store, id: number, now: Date, note = "waiting") {
  await store.applyTransitions([{ id, from: ["none"], to: "scheduled" }], now);
  expect(await store.prepareSensorWaits([{ id, try_number: 1, note }], now)).toEqual([true]);
  expect(await store.applyTransitions([{ id, from: ["scheduled"], to: "deferred", patch: { start_date: now } }], now)).toEqual([true]);
}

export function sensorsContract(getStore: () => Store): void {
  describe("sensors", () => {
    test("a deferred sensor is due at its next check; the earliest check is known; other states are not listed", async () => {
      const store = getStore();
      const { run, ti } = await sensorRun(store, "waits", "r1", ["a", "b", "c"]);
      const [a, b, c] = [await ti("a"), await ti("b"), await ti("c")];
      await defer(store, a.id, at(10));
      await defer(store, b.id, at(20));
      await store.applyTransitions([{ id: c.id, from: ["none"], to: "scheduled" }], at(0)); // scheduled, not deferred

      expect(await store.nextSensorCheckAt()).toEqual(at(10));
      expect(await store.listDueSensors(at(5), 100)).toEqual([]);
      expect(await store.listDueSensors(at(25), 100)).toEqual([
        {
          id: a.id,
          dag_run_id: run.id,
          team: "default",
          dag_id: "waits",
          run_id: "r1",
          task_id: "a",
          try_number: 1,
          state: "deferred",
          version_id: run.version_id,
          logical_date: LOGICAL,
          run_queued_at: T0,
          sensor_started_at: at(10),
          sensor_checks: 0,
          next_check_at: at(10),
        },
        expect.objectContaining({ id: b.id, next_check_at: at(20) }),
      ]);
      expect((await store.listDueSensors(at(25), 1)).map((s) => s.task_id)).toEqual(["a"]);
      expect((await ti("a")).note).toBe("waiting");
    });

    test("a recorded check counts, moves the next check and the note, and leaves updated_at alone", async () => {
      const store = getStore();
      const { ti } = await sensorRun(store, "waits", "r1", ["a"]);
      const a = await ti("a");
      await defer(store, a.id, at(10));
      const before = (await ti("a")).updated_at;
      expect(await store.recordSensorChecks([{ id: a.id, try_number: 1, next_check_at: at(70), note: "next check at 70" }])).toEqual([
        true,
      ]);
      expect(await store.recordSensorChecks([{ id: a.id, try_number: 2, next_check_at: at(99), note: "old try" }])).toEqual([false]);
      const after = await ti("a");
      expect(after.updated_at).toEqual(before);
      expect(after.note).toBe("next check at 70");
      expect(await store.listDueSensors(at(69), 10)).toEqual([]);
      expect(await store.listDueSensors(at(70), 10)).toEqual([
        expect.objectContaining({ id: a.id, sensor_checks: 1, sensor_started_at: at(10) }),
      ]);
      expect(await store.nextSensorCheckAt()).toEqual(at(70));
    });

    test("a sensor that left deferred is no longer due, and recording on it changes nothing", async () => {
      const store = getStore();
      const { ti } = await sensorRun(store, "waits", "r1", ["a"]);
      const a = await ti("a");
      await defer(store, a.id, at(10));
      expect(await store.applyTransitions([{ id: a.id, from: ["deferred"], to: "success", patch: { end_date: at(11) } }], at(11))).toEqual([
        true,
      ]);
      expect(await store.listDueSensors(at(100), 10)).toEqual([]);
      expect(await store.nextSensorCheckAt()).toBeNull();
      expect(await store.recordSensorChecks([{ id: a.id, try_number: 1, next_check_at: at(70), note: "x" }])).toEqual([false]);
      // Readying applies to scheduled task instances only.
      expect(await store.prepareSensorWaits([{ id: a.id, try_number: 1, note: "x" }], at(12))).toEqual([false]);
    });

    test("deferred sensors hold no slot: not counted as active and not in pool usage", async () => {
      const store = getStore();
      const { ti } = await sensorRun(store, "waits", "r1", ["a"]);
      await defer(store, (await ti("a")).id, at(10));
      const counts = await store.countActiveTaskInstances();
      expect([...counts.byDag.values()].reduce((n, v) => n + v, 0)).toBe(0);
      const pool = (await store.listPoolUsage()).find((p) => p.name === "default_pool" && p.team === "default")!;
      expect(pool.running_slots + pool.queued_slots).toBe(0);
    });

    test("a user check in mode reschedule: progress recorded only while its try runs, due again when up_for_reschedule, holding no slot", async () => {
      const store = getStore();
      const { ti } = await sensorRun(store, "resched", "r1", ["a"]);
      const a = await ti("a");
      expect(await store.getSensorProgress(a.id)).toEqual({ started_at: null, checks: 0 });
      expect(await store.getSensorProgress(a.id + 1000)).toBeNull();
      const progress = { id: a.id, try_number: 1, started_at: at(0), checks: 1, next_check_at: at(30) };
      expect(await store.recordReschedule(progress)).toBe(false); // not running: nothing recorded
      await store.applyTransitions([{ id: a.id, from: ["none"], to: "scheduled" }], at(0));
      await store.applyTransitions([{ id: a.id, from: ["scheduled"], to: "running", patch: { start_date: at(0) } }], at(0));
      expect(await store.recordReschedule({ ...progress, try_number: 2 })).toBe(false); // another try
      expect(await store.recordReschedule(progress)).toBe(true);
      expect(await store.applyTransitions([{ id: a.id, from: ["running"], to: "up_for_reschedule", try_number: 1 }], at(1))).toEqual([
        true,
      ]);
      expect(await store.getSensorProgress(a.id)).toEqual({ started_at: at(0), checks: 1 });
      expect(await store.nextSensorCheckAt()).toEqual(at(30));
      expect(await store.listDueSensors(at(29), 10)).toEqual([]);
      expect(await store.listDueSensors(at(30), 10)).toEqual([
        expect.objectContaining({ id: a.id, state: "up_for_reschedule", try_number: 1, sensor_checks: 1, sensor_started_at: at(0) }),
      ]);
      const counts = await store.countActiveTaskInstances();
      expect([...counts.byDag.values()].reduce((n, v) => n + v, 0)).toBe(0);
      const pool = (await store.listPoolUsage()).find((p) => p.name === "default_pool" && p.team === "default")!;
      expect(pool.running_slots + pool.queued_slots).toBe(0);
    });

    test("external states: the other DAG's run or task by logical date, within the team", async () => {
      const store = getStore();
      const { ti } = await sensorRun(store, "upstream_dag", "r1", ["load"]);
      await store.applyTransitions([{ id: (await ti("load")).id, from: ["none"], to: "success" }], at(1));
      expect(await store.externalStates("default", "upstream_dag", LOGICAL, "load")).toEqual(["success"]);
      expect(await store.externalStates("default", "upstream_dag", LOGICAL, null)).toEqual(["queued"]);
      expect(await store.externalStates("default", "upstream_dag", at(0), "load")).toEqual([]);
      expect(await store.externalStates("default", "upstream_dag", LOGICAL, "missing")).toEqual([]);
      expect(await store.externalStates("default", "other", LOGICAL, null)).toEqual([]);
    });
  });
}
