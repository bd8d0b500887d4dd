/**
 * A DAG's python environment built for real (python3 -m venv, pip) from a local wheel folder, offline:
 * built once even when two tasks ask at the same moment, reused, another one for another list, and a pip
 * failure reported with pip's own output and nothing left behind.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VenvBuildError, ensureVenv } from "../../../src/agent";
import { buildTinyWheel } from "../../support/tiny-wheel";

const dir = mkdtempSync(join(tmpdir(), "leoflow-venv-it-"));
const wheels = join(dir, "wheels");
const venvsDir = join(dir, "venvs");
mkdirSync(wheels);
buildTinyWheel(wheels, "leoflow_tiny", "1.0");
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const build = (requirements: string[], log: string[]) =>
  ensureVenv({ requirements, venvsDir, findLinks: wheels, env, log: (l) => log.push(l) });

describe("ensureVenv", () => {
  test("two tasks asking at once build one environment; a third reuses it; the package imports", async () => {
    const a: string[] = [];
    const b: string[] = [];
    const [da, db] = await Promise.all([build(["leoflow_tiny==1.0"], a), build(["leoflow_tiny==1.0"], b)]);
    expect(da).toBe(db);
    const logs = [...a, ...b];
    expect(logs.filter((l) => l.startsWith("building python environment"))).toHaveLength(1);
    expect(logs).toContain("pip: Successfully installed leoflow_tiny-1.0");
    expect(logs).toContain("waiting for another task that is building the same python environment");

    const c: string[] = [];
    expect(await build([" leoflow_tiny==1.0"], c)).toBe(da);
    expect(c).toEqual([`python environment ${da} (reused)`]);
    const run = Bun.spawnSync([join(da, "bin", "python"), "-c", "import leoflow_tiny; print(leoflow_tiny.hello())"]);
    expect(run.stdout.toString()).toBe("hello from leoflow_tiny 1.0\n");
  }, 180_000);

  test("a requirement pip cannot find fails naming pip, with pip's output in the log, and leaves no environment", async () => {
    const log: string[] = [];
    const before = readdirSync(venvsDir);
    const err = await build(["leoflow_missing==9.9"], log).catch((e) => e);
    expect(err).toBeInstanceOf(VenvBuildError);
    expect(err.message).toBe("pip install of the DAG's requirements failed (exit code 1); pip's output is in the task's log above");
    expect(log.some((l) => l.startsWith("pip: ") && l.includes("No matching distribution found for leoflow_missing==9.9"))).toBe(true);
    expect(readdirSync(venvsDir).sort()).toEqual(before.sort());
  }, 180_000);
});
