import { describe, expect, test } from "bun:test";
import { effectiveParams, taskEnv, xcomInputRefs } from "../../../src/rpc";
import type { TaskSpec } from "../../../src/domain";

describe("xcomInputRefs", () => {
  test.each<[string, Pick<TaskSpec, "upstream" | "inputs">, { name: string; taskId: string; key: string }[]]>([
    ["no upstream", { upstream: [] }, []],
    [
      "each upstream's return_value",
      { upstream: ["extract", "clean-up.v2"] },
      [
        { name: "EXTRACT", taskId: "extract", key: "return_value" },
        { name: "CLEAN_UP_V2", taskId: "clean-up.v2", key: "return_value" },
      ],
    ],
    [
      "inputs with and without key",
      { upstream: [], inputs: { ROWS: "extract", meta: "extract:meta", EMPTY_KEY: "x:" } },
      [
        { name: "ROWS", taskId: "extract", key: "return_value" },
        { name: "META", taskId: "extract", key: "meta" },
        { name: "EMPTY_KEY", taskId: "x", key: "return_value" },
      ],
    ],
    [
      "an input overrides an upstream of the same name",
      { upstream: ["extract"], inputs: { EXTRACT: "extract:other" } },
      [{ name: "EXTRACT", taskId: "extract", key: "other" }],
    ],
  ])("%s", (_name, task, want) => {
    expect(xcomInputRefs(task)).toEqual(want);
  });
});

describe("effectiveParams", () => {
  test.each<[string, Record<string, { default?: unknown }>, Record<string, unknown>, Record<string, unknown>]>([
    ["defaults", { limit: { default: 10 }, name: {} }, {}, { limit: 10, name: null }],
    ["conf overrides and adds", { limit: { default: 10 } }, { limit: 5, extra: true }, { limit: 5, extra: true }],
  ])("%s", (_name, params, conf, want) => {
    expect(effectiveParams({ params: params as never }, conf)).toEqual(want);
  });
});

describe("taskEnv", () => {
  test("task env plus run context; context wins", () => {
    const env = taskEnv({
      task: { task_id: "load", env: { FOO: "bar", LEOFLOW_DAG_ID: "spoofed" } } as unknown as TaskSpec,
      run: { dag_id: "etl", run_id: "r1", logical_date: new Date("2026-01-02T00:00:00Z"), conf: { limit: 5 } },
      ti: { try_number: 2 },
      params: { limit: 5 },
    });
    expect(env).toEqual({
      FOO: "bar",
      LEOFLOW_DAG_ID: "etl",
      LEOFLOW_RUN_ID: "r1",
      LEOFLOW_TASK_ID: "load",
      LEOFLOW_TRY_NUMBER: "2",
      LEOFLOW_LOGICAL_DATE: "2026-01-02T00:00:00.000Z",
      LEOFLOW_CONF: '{"limit":5}',
      LEOFLOW_PARAMS: '{"limit":5}',
    });
  });

  test("no logical date → empty", () => {
    const env = taskEnv({
      task: { task_id: "t" } as TaskSpec,
      run: { dag_id: "d", run_id: "r", logical_date: null, conf: {} },
      ti: { try_number: 1 },
      params: {},
    });
    expect(env.LEOFLOW_LOGICAL_DATE).toBe("");
    expect(env.LEOFLOW_CONF).toBe("{}");
  });
});
