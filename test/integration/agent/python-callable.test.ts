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
