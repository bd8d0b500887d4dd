/**
 * Hostile DAG files on Lite: the real binary serves a folder holding a good SDK DAG beside files that exit,
 * throw, hang, throw from a timer, allocate without end, fail to parse, print the environment, or bomb the
 * YAML parser. Each must be an import error naming the file and the reason; the good DAG runs; the server
 * stays healthy, keeps none of the children's memory, and starts again with the files present — from the
 * parse cache, without parsing anything again. `leoflow dags validate` survives the same folder.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { BINARY, startLeoflow, waitForRun, type Leoflow } from "../e2e/harness";
import { GOOD_DAG, HOSTILE, PARSE_ARGS, writeHostileFolder } from "./dag-files-hostile";

const JWT_SECRET = "jwt-secret-the-dag-files-must-never-see-0123";

const importErrors = async (lf: Leoflow) => {
  const { body } = await lf.api<{ import_errors: { filename: string; stack_trace: string }[] }>("GET", "/api/v2/importErrors?limit=100");
  // One entry per problem: a file with two syntax errors has two.
  const byFile = new Map<string, string>();
  for (const e of body.import_errors) {
    const name = basename(e.filename);
    byFile.set(name, byFile.has(name) ? `${byFile.get(name)}\n${e.stack_trace}` : e.stack_trace);
  }
  return byFile;
};

describe("Lite: hostile DAG files", () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-sec-dags-"));
  const dags = writeHostileFolder(dir);
  const start = () => startLeoflow({ dir, args: PARSE_ARGS, env: { LEOFLOW_JWT_SECRET: JWT_SECRET } });
  let lf: Leoflow;

  beforeAll(async () => {
    lf = await start();
  }, 60_000);
  afterAll(async () => {
    await lf?.stop();
  });

  test("every hostile file is an import error with its reason; nothing leaks", async () => {
    const errors = await importErrors(lf);
    for (const [file, { expected }] of Object.entries(HOSTILE)) {
      expect({ file, error: errors.get(file) }).toEqual({ file, error: expect.stringMatching(expected) });
    }
    expect([...errors.keys()].sort()).toEqual(Object.keys(HOSTILE).sort());
    const leaked = errors.get("leaks_env.ts")!;
    expect(leaked).not.toContain(JWT_SECRET);
    expect(leaked).not.toContain("e2e-admin-password");
    expect(leaked).not.toContain("LEOFLOW_");
  });

  test("the good DAG runs to success and the server stays healthy", async () => {
    const health = await lf.api("GET", "/api/v2/monitor/health");
    expect(health.status).toBe(200);
    expect((await lf.api("POST", `/api/v2/dags/${GOOD_DAG}/dagRuns`, { dag_run_id: "r1", logical_date: null })).status).toBe(200);
    expect((await waitForRun(lf, GOOD_DAG, "r1")).state).toBe("success");
    const xcom = await lf.api("GET", `/api/v2/dags/${GOOD_DAG}/dagRuns/r1/taskInstances/b/xcomEntries/return_value`);
    expect(xcom.body.value).toBe(42);
    expect(lf.proc.exitCode).toBeNull();
  }, 60_000);

  test("a restart with the files present starts, keeps the errors, and parses nothing again", async () => {
    expect(await lf.stop()).toBe(0);
    lf = await start();
    expect((await lf.api("GET", "/api/v2/monitor/health")).status).toBe(200);
    expect([...(await importErrors(lf)).keys()].sort()).toEqual(Object.keys(HOSTILE).sort());
    // Every file's result came from the parse cache in the data dir.
    expect(lf.output()).toMatch(/DAG folder loaded .*parse_processes=0 parse_cache_hits=10/);
    expect((await lf.api("GET", `/api/v2/dags/${GOOD_DAG}`)).body.is_stale).toBe(false);
  }, 60_000);

  test("`leoflow dags validate` reports every hostile file and lives", async () => {
    const proc = Bun.spawn([BINARY, "dags", "validate", dags], {
      env: { ...process.env, LEOFLOW_DAG_PARSE_TIMEOUT: "5", LEOFLOW_DAG_PARSE_MEMORY: "128Mi" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(code).toBe(1); // invalid files found; not a crash
    expect(out).toContain(`${join(dags, "good.ts")}: ok (${GOOD_DAG})`);
    for (const [file, { expected }] of Object.entries(HOSTILE)) {
      const line = out.split("\n").find((l) => l.startsWith(join(dags, file) + ": "));
      expect({ file, line: line?.slice(join(dags, file).length + 2) }).toEqual({ file, line: expect.stringMatching(expected) });
    }
  }, 60_000);
});
