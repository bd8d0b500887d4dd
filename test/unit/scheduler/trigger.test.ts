import { describe, expect, test } from "bun:test";
import { ValidationError, type DagRecord } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { buildDagRun, defaultRunId, resolveConf, runIdSuffix } from "../../../src/scheduler/trigger";

const NOW = new Date("2026-03-01T12:00:00Z");

function dag(raw: Record<string, unknown>): DagRecord {
  return {
    team: "default",
    dag_id: "etl",
    fileloc: "/dags/etl.json",
    version_id: 7,
    spec: parseDagSpec({ dag_id: "etl", ...raw }),
    is_paused: false,
    is_active: true,
    last_parsed_at: NOW,
  };
}

const TASKS = [
  { task_id: "extract", operator: "bash", bash_command: "true", retries: 2, pool: "db", pool_slots: 2 },
  { task_id: "load", operator: "bash", bash_command: "true", upstream: ["extract"] },
];

describe("defaultRunId", () => {
  test.each([
    ["manual", "2026-01-01T00:00:00.000Z", "manual__2026-01-01T00:00:00+00:00"],
    ["scheduled", "2026-01-01T00:00:00.000Z", "scheduled__2026-01-01T00:00:00+00:00"],
    ["manual", "2026-01-01T00:00:00.123Z", "manual__2026-01-01T00:00:00.123000+00:00"],
    ["backfill", "2026-01-01T00:00:00.007Z", "backfill__2026-01-01T00:00:00.007000+00:00"],
  ] as const)("%s at %s → %s", (type, at, want) => {
    expect(defaultRunId(type, new Date(at))).toBe(want);
  });

  test("with a suffix: Airflow 3's id of a run without logical date", () => {
    expect(defaultRunId("manual", new Date("2026-01-01T00:00:00.123Z"), "aZ3kQ0pX")).toBe(
      "manual__2026-01-01T00:00:00.123000+00:00_aZ3kQ0pX",
    );
  });
});

describe("runIdSuffix", () => {
  test.each([
    [[0, 1, 2, 3, 4, 5, 6, 7], "ABCDEFGH"],
    [[25, 26, 51, 52, 61, 62, 255, 124], "Zaz09AHA"],
    [[9, 9, 9, 9, 9, 9, 9, 9, 9, 9], "JJJJJJJJ"], // only the first 8 bytes count
  ])("%p → %s", (bytes, want) => {
    expect(runIdSuffix(new Uint8Array(bytes))).toBe(want);
  });
});

describe("buildDagRun", () => {
  test("manual run without logical date: id from now, one TI per task with retries and pools", () => {
    const run = buildDagRun(dag({ tasks: TASKS }), { run_type: "manual", logical_date: null }, NOW);
    expect(run.run_id).toBe("manual__2026-03-01T12:00:00+00:00");
    expect(run.queued_at).toEqual(NOW);
    expect(run.version_id).toBe(7);
    expect(run.logical_date).toBeNull();
    expect(run.data_interval_start).toBeNull();
    expect(run.tasks).toEqual([
      // downstream weight rule: extract carries load's weight too
      { task_id: "extract", operator: "bash", max_tries: 2, pool: "db", pool_slots: 2, priority_weight: 2 },
      { task_id: "load", operator: "bash", max_tries: 0, pool: "default_pool", pool_slots: 1, priority_weight: 1 },
    ]);
  });

  test("scheduled run: id from logical date, intervals kept, explicit run id wins", () => {
    const ld = new Date("2026-02-28T00:00:00Z");
    const end = new Date("2026-03-01T00:00:00Z");
    const d = dag({ tasks: TASKS });
    const run = buildDagRun(d, { run_type: "scheduled", logical_date: ld, data_interval_start: ld, data_interval_end: end }, NOW);
    expect(run.run_id).toBe("scheduled__2026-02-28T00:00:00+00:00");
    expect(run.data_interval_end).toEqual(end);
    expect(buildDagRun(d, { run_type: "manual", logical_date: ld, run_id: "mine" }, NOW).run_id).toBe("mine");
  });

  test("conf is stored as given (params stay separate), note is kept", () => {
    const d = dag({ tasks: TASKS, params: { limit: { type: "integer", default: 10 }, mode: { default: "full" } } });
    const run = buildDagRun(d, { run_type: "manual", logical_date: null, conf: { limit: 3, extra: true }, note: "hi" }, NOW);
    expect(run.conf).toEqual({ limit: 3, extra: true });
    expect(run.note).toBe("hi");
  });

  test("the run belongs to its DAG's team", () => {
    const run = buildDagRun({ ...dag({ tasks: TASKS }), team: "data-eng" }, { run_type: "manual", logical_date: null }, NOW);
    expect(run.team).toBe("data-eng");
  });

  test("bad conf throws with the param path", () => {
    const d = dag({ tasks: TASKS, params: { limit: { type: "integer", default: 10 } } });
    expect(() => buildDagRun(d, { run_type: "manual", logical_date: null, conf: { limit: "x" } }, NOW)).toThrow(
      /conf\.limit: expected integer, got string/,
    );
  });
});

describe("resolveConf", () => {
  const params = {
    limit: { type: "integer" as const, default: 10, minimum: 1, maximum: 100 },
    mode: { type: "string" as const, default: "full", enum: ["full", "delta"] },
    ratio: { type: "number" as const, default: 0.5 },
    tags: { type: "array" as const, default: [] },
    opts: { type: "object" as const, default: {} },
    flag: { type: "boolean" as const, default: false },
    maybe: { type: "null" as const },
  };
  const base = { limit: 10, mode: "full", ratio: 0.5, tags: [], opts: {}, flag: false, maybe: null };

  test.each([
    ["defaults fill every param", {}, base],
    ["conf overrides", { limit: 5, mode: "delta" }, { ...base, limit: 5, mode: "delta" }],
    ["unknown keys pass through", { other: 1 }, { ...base, other: 1 }],
    ["boundaries are inclusive", { limit: 100, ratio: 3 }, { ...base, limit: 100, ratio: 3 }],
  ])("%s", (_name, conf, want) => {
    expect(resolveConf({ params }, conf)).toEqual(want);
  });

  test.each([
    ["wrong type", { limit: 1.5 }, "conf.limit", "expected integer, got number 1.5"],
    ["below minimum", { limit: 0 }, "conf.limit", "0 is less than the minimum 1"],
    ["above maximum", { limit: 101 }, "conf.limit", "101 is greater than the maximum 100"],
    ["not in enum", { mode: "x" }, "conf.mode", '"x" is not one of "full", "delta"'],
    ["array is not object", { opts: [] }, "conf.opts", "expected object, got array []"],
    ["string is not boolean", { flag: "true" }, "conf.flag", 'expected boolean, got string "true"'],
  ])("%s", (_name, conf, path, message) => {
    try {
      resolveConf({ params }, conf as Record<string, unknown>);
      throw new Error("expected a ValidationError");
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).issues).toEqual([{ path, message }]);
    }
  });

  test("a param without default must be given", () => {
    expect(() => resolveConf({ params: { who: { type: "string" } } }, {})).toThrow(/conf\.who: param "who" is required/);
    expect(resolveConf({ params: { who: { type: "string" } } }, { who: "me" })).toEqual({ who: "me" });
  });

  test("every problem is reported at once", () => {
    let issues: string[] = [];
    try {
      resolveConf({ params }, { limit: 0, mode: "x" });
    } catch (e) {
      issues = (e as ValidationError).issues.map((i) => i.path);
    }
    expect(issues).toEqual(["conf.limit", "conf.mode"]);
  });
});
