import { describe, expect, test } from "bun:test";
import { afterCheck, rescheduleProgress, pokeDelaySeconds, sensorTiming, waitingNote, ValidationError } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";

const T0 = new Date("2026-03-01T00:00:00.000Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);

describe("sensor timing defaults", () => {
  test("no timeout: Airflow's 7 days, marked as defaulted; poke 60 s, mode poke", () => {
    expect(sensorTiming({})).toEqual({
      pokeInterval: 60,
      timeout: 604_800,
      timeoutDefaulted: true,
      mode: "poke",
      softFail: false,
      exponentialBackoff: false,
      maxWait: null,
    });
    expect(sensorTiming({ timeout: 30 }).timeoutDefaulted).toBe(false);
  });
});

describe("poke delay", () => {
  test.each([
    // [poke_interval, exponential_backoff, max_wait, checks, expected delay]
    [10, false, undefined, 1, 10],
    [10, false, undefined, 7, 10],
    [10, true, undefined, 1, 10],
    [10, true, undefined, 2, 20],
    [10, true, undefined, 4, 80],
    [10, true, 50, 4, 50],
    [10, false, 5, 1, 5],
  ] as const)("poke %p backoff %p max_wait %p after check %p → %p s", (poke, backoff, maxWait, checks, expected) => {
    expect(pokeDelaySeconds(sensorTiming({ poke_interval: poke, exponential_backoff: backoff, max_wait: maxWait }), checks)).toBe(expected);
  });
});

describe("after a check", () => {
  const t = sensorTiming({ poke_interval: 30, timeout: 100 });
  test.each([
    ["passed", { done: true }, 10, { outcome: "success" }],
    ["not yet, well before the timeout", { done: false }, 10, { outcome: "wait", nextCheckAt: at(40) }],
    [
      "not yet, the next poke would pass the timeout: checked at the timeout",
      { done: false },
      90,
      { outcome: "wait", nextCheckAt: at(100) },
    ],
    [
      "not yet at the timeout: failed for good, never retried (Airflow's AirflowSensorTimeout)",
      { done: false },
      100,
      { outcome: "failed", note: "sensor timed out after 100 s (3 checks)", final: true },
    ],
    [
      "the check could not run",
      { error: "connection refused" },
      10,
      { outcome: "failed", note: "sensor check failed: connection refused" },
    ],
  ] as const)("%s", (_, result, nowS, expected) => {
    expect(afterCheck(t, { startedAt: T0, checks: 3, result }, at(nowS))).toEqual(expected as never);
  });

  test("a time sensor that knows when it is done is checked then, not every poke_interval; never past the timeout", () => {
    const done = (s: number) => ({ done: false, doneAt: at(s) });
    expect(afterCheck(t, { startedAt: T0, checks: 1, result: done(75) }, at(10))).toEqual({ outcome: "wait", nextCheckAt: at(75) });
    expect(afterCheck(t, { startedAt: T0, checks: 1, result: done(500) }, at(10))).toEqual({ outcome: "wait", nextCheckAt: at(100) });
  });

  test("soft_fail skips instead of failing, on timeout and on errors", () => {
    const soft = sensorTiming({ poke_interval: 30, timeout: 100, soft_fail: true });
    expect(afterCheck(soft, { startedAt: T0, checks: 4, result: { done: false } }, at(100)).outcome).toBe("skipped");
    expect(afterCheck(soft, { startedAt: T0, checks: 1, result: { error: "x" } }, at(1)).outcome).toBe("skipped");
  });

  test("a defaulted timeout says so when it fires", () => {
    const out = afterCheck(sensorTiming({}), { startedAt: T0, checks: 9, result: { done: false } }, at(604_800));
    expect(out).toEqual({
      outcome: "failed",
      note: "sensor timed out after 604800 s (9 checks); no timeout was set, Airflow's default of 7 days applied",
      final: true,
    });
  });

  test("backoff doubles the wait between checks", () => {
    const b = sensorTiming({ poke_interval: 5, exponential_backoff: true, timeout: 3600 });
    expect(afterCheck(b, { startedAt: T0, checks: 3, result: { done: false } }, at(100))).toEqual({
      outcome: "wait",
      nextCheckAt: at(120),
    });
  });

  test("the waiting note names the kind, the next check and the default timeout", () => {
    expect(waitingNote(sensorTiming({}), { kind: "file", path: "/data/*.csv" }, at(60), T0)).toBe(
      "sensor file waiting; next check 2026-03-01T00:01:00.000Z; timeout 2026-03-08T00:00:00.000Z (no timeout set: Airflow's default of 7 days)",
    );
  });
});

describe("sensor tasks in a DAG", () => {
  const dag = (task: Record<string, unknown>) => parseDagSpec({ dag_id: "d", tasks: [{ task_id: "wait", operator: "sensor", ...task }] });

  test("a file sensor with its fields parses", () => {
    const spec = dag({ sensor: { kind: "file", path: "/data/in/*.csv" }, poke_interval: 5, mode: "reschedule", soft_fail: true });
    expect(spec.tasks[0]).toMatchObject({
      sensor: { kind: "file", path: "/data/in/*.csv" },
      poke_interval: 5,
      mode: "reschedule",
      soft_fail: true,
    });
  });

  test.each([
    [
      { sensor: { kind: "file", path: "/x" }, poke_interval: 0.5 },
      "tasks[0].poke_interval: poke_interval must be at least 1 s (checks faster than that are refused)",
    ],
    [
      {},
      'tasks[0]: a sensor task needs sensor: { kind: "file" | "http" | "sql" | "external_task" | "time_delta" | "date_time" | "bash" | "ts", ... }',
    ],
    [
      { sensor: { kind: "tide" } },
      'tasks[0].sensor.kind: unknown sensor kind "tide"; use one of time_delta, date_time, http, file, sql, external_task, bash, ts',
    ],
    [{ sensor: { kind: "file", path: "data/*.csv" } }, "tasks[0].sensor.path: a file sensor's path is an absolute path or glob"],
  ])("refused at load: %j", (task, message) => {
    expect(() => dag(task)).toThrow(ValidationError);
    expect(() => dag(task)).toThrow(message);
  });

  test.each([{ kind: "bash", bash_command: "test -f /x || exit 75" }, { kind: "ts" }])(
    "a user check %j parses in mode reschedule",
    (sensor) => {
      expect(dag({ sensor, mode: "reschedule" }).tasks[0]).toMatchObject({ sensor, mode: "reschedule" });
    },
  );

  test("external_task defaults: wait for success, give up on failed or upstream_failed", () => {
    const spec = dag({ sensor: { kind: "external_task", external_dag_id: "upstream_dag", external_task_id: "load" } });
    expect(spec.tasks[0]!.sensor).toEqual({
      kind: "external_task",
      external_dag_id: "upstream_dag",
      external_task_id: "load",
      allowed_states: ["success"],
      failed_states: ["failed", "upstream_failed"],
    });
  });
});

describe("a user check in mode reschedule", () => {
  const start = new Date("2026-03-01T00:00:00Z");
  test.each([
    ["its first check", { started_at: null, checks: 0 }, { startedAt: start, checks: 1 }],
    ["a later check of the same try: the count goes on", { started_at: start, checks: 3 }, { startedAt: start, checks: 4 }],
    [
      "a new start (a retry, a clear): counted from 1 again",
      { started_at: new Date("2026-02-01T00:00:00Z"), checks: 9 },
      { startedAt: start, checks: 1 },
    ],
  ] as const)("%s", (_, recorded, want) => {
    expect(rescheduleProgress(recorded, start)).toEqual(want);
  });
});
