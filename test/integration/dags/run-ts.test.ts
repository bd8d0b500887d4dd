import { afterAll, describe, expect, spyOn, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildContext, runTsTask, xcomEnvName } from "../../../src/dags";

const FILE = join(import.meta.dir, "../../fixtures/dags/fixture_sdk.ts");
const tmp = mkdtempSync(join(tmpdir(), "leoflow-run-ts-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** Runs a task as the agent would: env in, exit code and the return-value file out. */
async function run(taskId: string, env: Record<string, string>, dagId = "fixture_sdk_typed") {
  const out = join(tmp, `rv-${++n}.json`);
  const stderr: string[] = [];
  const spy = spyOn(console, "error").mockImplementation((...a: unknown[]) => void stderr.push(a.join(" ")));
  try {
    const code = await runTsTask(FILE, taskId, dagId, { LEOFLOW_RETURN_VALUE_PATH: out, ...env });
    return { code, value: existsSync(out) ? JSON.parse(readFileSync(out, "utf8")) : undefined, stderr: stderr.join("\n") };
  } finally {
    spy.mockRestore();
  }
}

describe("runTsTask", () => {
  test("runs the function with ctx from the env and writes its return value", async () => {
    const r = await run("sum-up", {
      LEOFLOW_XCOM_SOURCE: "5",
      LEOFLOW_PARAMS: `{"bonus": 1}`,
      LEOFLOW_RUN_ID: "manual__1",
      LEOFLOW_TRY_NUMBER: "2",
      LEOFLOW_LOGICAL_DATE: "2026-03-01T00:00:00Z",
    });
    expect(r).toEqual({ code: 0, value: { total: 6, run: "manual__1", try_number: 2, logical_date: "2026-03-01T00:00:00Z" }, stderr: "" });
  });

  test("an upstream whose id has non-alphanumerics arrives under its env name and is mapped back", async () => {
    const r = await run("twice", { LEOFLOW_XCOM_SUM_UP: `{"total": 21}` });
    expect(r).toMatchObject({ code: 0, value: 42 });
  });

  test("undefined writes no return value", async () => {
    expect(await run("nothing", {})).toEqual({ code: 0, value: undefined, stderr: "" });
  });

  test("a thrown error exits 1 with its stack on stderr", async () => {
    const r = await run("explode", {});
    expect(r.code).toBe(1);
    expect(r.value).toBeUndefined();
    expect(r.stderr).toContain("Error: exploded on purpose");
    expect(r.stderr).toContain("fixture_sdk.ts");
  });

  test.each([
    ["a task that is not a ts task", "source", "fixture_sdk_typed", /task "source" of DAG "fixture_sdk_typed" is not a ts task/],
    ["an unknown DAG", "sum-up", "nope", /DAG "nope" is not declared in .*\(found: fixture_sdk_hidden, fixture_sdk_typed\)/],
  ])("%s exits 1 and says why", async (_name, taskId, dagId, message) => {
    const r = await run(taskId, {}, dagId);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
  });
});

test.each([
  ["extract", "LEOFLOW_XCOM_EXTRACT"],
  ["sum-up", "LEOFLOW_XCOM_SUM_UP"],
  ["a.b_c", "LEOFLOW_XCOM_A_B_C"],
])("xcomEnvName(%s) = %s", (id, name) => expect(xcomEnvName(id)).toBe(name));

test("buildContext: defaults when the agent sets nothing", () => {
  expect(buildContext(["a"], {})).toEqual({
    xcom: {},
    params: {},
    conf: {},
    logical_date: null,
    dag_id: "",
    run_id: "",
    task_id: "",
    try_number: 1,
    map_index: -1,
    map: {},
    var: expect.any(Function),
    conn: expect.any(Function),
  });
});

test("buildContext: a value the agent moved to a file (too large for the environment) is read from $NAME_FILE", () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-ctx-file-"));
  try {
    writeFileSync(join(dir, "xcom"), JSON.stringify({ rows: "r".repeat(200_000) }));
    writeFileSync(join(dir, "conf"), JSON.stringify({ big: true }));
    const ctx = buildContext(["extract"], { LEOFLOW_XCOM_EXTRACT_FILE: join(dir, "xcom"), LEOFLOW_CONF_FILE: join(dir, "conf") });
    expect((ctx.xcom.extract as { rows: string }).rows).toHaveLength(200_000);
    expect(ctx.conf).toEqual({ big: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
