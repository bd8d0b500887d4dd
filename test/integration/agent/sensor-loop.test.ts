/**
 * The bash sensor's poke loop run by a real bash: checks until the command exits 0, gives up at the timeout
 * (exit 1, or 99 = skipped with soft_fail), and fails at once on an exit code other than 75 ("not yet").
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildCommand } from "../../../src/agent";
import { TASK_DEFAULTS, type TaskSpec } from "../../../src/domain";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "leoflow-sensor-loop-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function runSensor(bashCommand: string, fields: Partial<TaskSpec> = {}) {
  const task = {
    ...TASK_DEFAULTS,
    upstream: [],
    task_id: "s",
    operator: "sensor",
    sensor: { kind: "bash", bash_command: bashCommand },
    poke_interval: 1,
    ...fields,
  };
  const proc = Bun.spawn(buildCommand(task as TaskSpec, { file: "/dags/x.json", id: "x" }), { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, out, err };
}

describe("bash sensor poke loop", () => {
  test("not yet (75) until the third check, then done", async () => {
    const r = await runSensor(`n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; [ $n -ge 3 ] || exit 75`);
    expect(r.code).toBe(0);
    expect(r.out).toContain("sensor not yet (check 1); next check in 1 s");
    expect(r.out).toContain("sensor done after 3 checks");
  });

  test("at the timeout: 98 (failed, not retried), or skipped (99) with soft_fail", async () => {
    const failed = await runSensor("exit 75", { timeout: 1 });
    expect(failed.code).toBe(98);
    expect(failed.err).toContain("sensor timed out after 1 s (2 checks)");
    expect((await runSensor("exit 75", { timeout: 1, soft_fail: true })).code).toBe(99);
  });

  test("a check that crosses a wall-clock second does not count as a whole second of the timeout", async () => {
    // Start just after a second begins; the first check then ends just after the next one begins, ~0.9 s later.
    // Counting whole wall-clock seconds, that looked like the 1 s timeout had passed after one check.
    const firstCheckEndsAfterTheNextSecond = `n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count
if [ "$n" = 0 ]; then us=\${EPOCHREALTIME#*.}; rest=$((1020000 - 10#$us)); sleep "$((rest / 1000000)).$(printf %06d $((rest % 1000000)))"; fi
exit 75`;
    await Bun.sleep(1000 - (Date.now() % 1000) + 100);
    const r = await runSensor(firstCheckEndsAfterTheNextSecond, { timeout: 1 });
    expect(r.code).toBe(98);
    expect(r.err).toContain("sensor timed out after 1 s (2 checks)");
  });

  test("any other exit code fails at once, saying what the codes mean", async () => {
    const r = await runSensor("exit 3");
    expect(r.code).toBe(1);
    expect(r.err).toContain("sensor check exited 3 (0 is done, 75 is not yet)");
  });
});
