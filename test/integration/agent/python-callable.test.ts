/**
 * The python_callable wrapper for real: a module written into a temp DAG folder, run by python3, its return
 * value written as JSON to $LEOFLOW_RETURN_VALUE_PATH. (The argv it is built into is unit-tested in
 * test/unit/agent/command.test.ts.)
 */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildCommand } from "../../../src/agent";
import { TASK_DEFAULTS, type TaskSpec } from "../../../src/domain";

test("python_callable wrapper imports from the DAG folder and writes the result as JSON", async () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-cmd-"));
  try {
    await Bun.write(join(dir, "mymod.py"), "def fn():\n    return {'rows': 3}\n\ndef nothing():\n    pass\n");
    for (const [fn, want] of [
      ["fn", '{"rows": 3}'],
      ["nothing", null],
    ] as const) {
      const out = join(dir, `rv-${fn}.json`);
      const task = { ...TASK_DEFAULTS, upstream: [], task_id: "t1", operator: "python", python_callable: `mymod:${fn}` } as TaskSpec;
      const argv = buildCommand(task, { file: join(dir, "dag.json"), id: "etl" }, () => ["/usr/bin/leoflow"]);
      const p = Bun.spawnSync(argv, { cwd: "/", env: { ...process.env, LEOFLOW_RETURN_VALUE_PATH: out } });
      expect(p.stderr.toString()).toBe("");
      expect(p.exitCode).toBe(0);
      expect((await Bun.file(out).exists()) ? await Bun.file(out).text() : null).toBe(want);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the callable gets Airflow's context: **kwargs all of it, named parameters theirs, a mapped argument by its name", async () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-cmd-"));
  try {
    await Bun.write(
      join(dir, "ctxmod.py"),
      [
        "def everything(**context):",
        "    return {'keys': sorted(k for k in context if k != 'ti' and k != 'task_instance'),",
        "            'ds': context['ds'], 'region': context['params']['region'], 'up': context['ti'].xcom_pull(task_ids='extract')}",
        "def named(ds, params, x):",
        "    return [ds, params['region'], x]",
      ].join("\n"),
    );
    const env = {
      ...process.env,
      LEOFLOW_DAG_ID: "etl",
      LEOFLOW_RUN_ID: "r1",
      LEOFLOW_TASK_ID: "t1",
      LEOFLOW_TRY_NUMBER: "2",
      LEOFLOW_LOGICAL_DATE: "2026-05-05T00:00:00.000Z",
      LEOFLOW_PARAMS: '{"region": "eu"}',
      LEOFLOW_CONF: "{}",
      LEOFLOW_XCOM_EXTRACT: '{"rows": 3}',
      LEOFLOW_MAP_INDEX: "1",
      LEOFLOW_MAP: '{"x": 20}',
    };
    const run = async (fn: string) => {
      const out = join(dir, `rv-${fn}.json`);
      const task = { ...TASK_DEFAULTS, upstream: [], task_id: "t1", operator: "python", python_callable: `ctxmod:${fn}` } as TaskSpec;
      const p = Bun.spawnSync(buildCommand(task, { file: join(dir, "dag.json"), id: "etl" }), {
        cwd: "/",
        env: { ...env, LEOFLOW_RETURN_VALUE_PATH: out },
      });
      expect(p.stderr.toString()).toBe("");
      return JSON.parse(await Bun.file(out).text());
    };
    expect(await run("everything")).toEqual({
      keys: [
        "conf",
        "dag_id",
        "dag_run",
        "ds",
        "ds_nodash",
        "logical_date",
        "map_index",
        "params",
        "run_id",
        "task_id",
        "try_number",
        "ts",
        "x",
      ],
      ds: "2026-05-05",
      region: "eu",
      up: { rows: 3 },
    });
    expect(await run("named")).toEqual(["2026-05-05", "eu", 20]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
