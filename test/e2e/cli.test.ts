/**
 * The CLI client end to end: the compiled binary as a user runs it against a running server — log in with
 * the admin password, trigger a DAG, follow its task's log to the end, read the run, set and get a
 * variable, parse --output json, and see the server's reason when a token is refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, type Leoflow, startLeoflow, waitFor } from "./harness";

/** The harness starts the server with this admin password (test/e2e/harness.ts). */
const ADMIN_PASSWORD = "e2e-admin-password";

const DAG = {
  dag_id: "cli_e2e",
  tasks: [{ task_id: "count", operator: "bash", bash_command: 'for i in 1 2 3; do echo "tick $i"; sleep 0.5; done' }],
};

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe("leoflow CLI client (compiled binary)", () => {
  let lf: Leoflow;
  let configHome: string;

  /** Runs the binary with its own config folder and none of the caller's LEOFLOW_SERVER/LEOFLOW_TOKEN. */
  async function cli(args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliResult> {
    const { LEOFLOW_SERVER: _s, LEOFLOW_TOKEN: _t, ...env } = process.env;
    const proc = Bun.spawn([BINARY, ...args], {
      env: { ...env, XDG_CONFIG_HOME: configHome, ...opts.env },
      stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr };
  }

  const ok = async (args: string[], opts?: Parameters<typeof cli>[1]) => {
    const r = await cli(args, opts);
    if (r.code !== 0)
      throw new Error(`leoflow ${args.join(" ")} exited ${r.code}:\n${r.stderr}\n--- server ---\n${lf.output().slice(-3000)}`);
    return r.stdout;
  };

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-cli-e2e-"));
    mkdirSync(join(dir, "dags"));
    writeFileSync(join(dir, "dags", "cli.json"), JSON.stringify(DAG));
    configHome = join(dir, "config");
    lf = await startLeoflow({ dagsFrom: join(dir, "dags") });
    await waitFor(
      async () => (await lf.api("GET", "/api/v2/dags/cli_e2e")).status === 200,
      20_000,
      () => `cli_e2e was not parsed:\n${lf.output()}`,
    );
  }, 40_000);
  afterAll(async () => {
    await lf?.stop();
  });

  test("login keeps the token in a file only its owner can read", async () => {
    const out = await ok(["login", "--server", lf.url, "--password-stdin"], { stdin: `${ADMIN_PASSWORD}\n` });
    expect(out).toContain(`logged in to ${lf.url} as admin`);
    const file = join(configHome, "leoflow", "credentials.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await Bun.file(file).text()).current_server).toBe(lf.url);
  });

  test("a wrong password is refused with the server's reason (exit 1)", async () => {
    const r = await cli(["login", "--server", lf.url, "--password-stdin"], { stdin: "wrong\n" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Invalid username or password");
  });

  test("dags list shows the server's DAGs as a table and as JSON", async () => {
    const table = await ok(["dags", "list"]);
    expect(table.split("\n")[0]).toMatch(/^DAG_ID\s+PAUSED\s+SCHEDULE/);
    expect(table).toMatch(/\ncli_e2e\s/);
    const json = JSON.parse(await ok(["dags", "list", "--output", "json"]));
    expect(json.dags.map((d: { dag_id: string }) => d.dag_id)).toContain("cli_e2e");
    expect(json.total_entries).toBeGreaterThanOrEqual(1);
  });

  test("trigger, follow the task's log to its end, and read the run until success", async () => {
    const run = JSON.parse(await ok(["dags", "trigger", "cli_e2e", "--run-id", "cli-1", "--conf", '{"who":"cli"}', "-o", "json"]));
    expect(run.dag_run_id).toBe("cli-1");
    expect(run.conf).toEqual({ who: "cli" });

    const log = await ok(["tasks", "logs", "cli_e2e", "cli-1", "count", "--follow"]);
    expect(log).toContain("tick 1");
    expect(log).toContain("tick 3");
    expect(log).toMatch(/exit code 0/);

    const done = await waitFor(
      async () => {
        const r = JSON.parse(await ok(["runs", "get", "cli_e2e", "cli-1", "-o", "json"]));
        return r.state === "success" || r.state === "failed" ? r : null;
      },
      30_000,
      () => `run cli-1 did not finish:\n${lf.output().slice(-3000)}`,
      250,
    );
    expect(done.state).toBe("success");
    expect(await ok(["runs", "get", "cli_e2e", "cli-1"])).toMatch(/^state\s+success$/m);
    expect(await ok(["tasks", "list", "cli_e2e", "cli-1"])).toMatch(/\ncount\s+success\s+1\s+bash/);
    expect(await ok(["runs", "list", "cli_e2e"])).toMatch(/\ncli_e2e\s+cli-1\s+success\s+manual/);
  }, 60_000);

  test("variables set and get, in table and JSON", async () => {
    expect(await ok(["variables", "set", "cli_var", "first"])).toBe("variable cli_var set\n");
    expect(await ok(["variables", "set", "cli_var", "second", "--description", "from the CLI"])).toBe("variable cli_var set\n");
    expect(await ok(["variables", "get", "cli_var"])).toMatch(/^value\s+second$/m);
    const json = JSON.parse(await ok(["variables", "get", "cli_var", "-o", "json"]));
    expect(json).toMatchObject({ key: "cli_var", value: "second", description: "from the CLI" });
    expect(await ok(["variables", "delete", "cli_var"])).toBe("variable cli_var deleted\n");
    const gone = await cli(["variables", "get", "cli_var"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("cli_var");
  });

  test("a bad token exits 1 with the server's detail", async () => {
    const detail = (await fetch(`${lf.url}/api/v2/dags`, { headers: { authorization: "Bearer not-a-token" } }).then((r) => r.json()))
      .detail;
    const r = await cli(["dags", "list"], { env: { LEOFLOW_TOKEN: "not-a-token" } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(detail);
  });

  test("bad usage exits 2 and --help answers", async () => {
    const missing = await cli(["runs", "get", "cli_e2e"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing RUN");
    expect(await ok(["tasks", "logs", "--help"])).toContain("--follow");
    expect(await ok(["help"])).toContain("leoflow login --server URL");
  });

  test("dags list PATH still lists local files without a server", async () => {
    const out = await ok(["dags", "list", join(lf.dir, "dags")], { env: { LEOFLOW_SERVER: "http://127.0.0.1:1" } });
    expect(out).toMatch(/^cli_e2e\t/m);
  }, 30_000);
});
