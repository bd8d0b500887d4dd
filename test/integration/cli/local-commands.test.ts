/**
 * The commands that run without a server (`dags validate`, `db`, `users`, `teams`, `secrets`, `config`,
 * `install`, `serve`'s start-up errors) as a user runs them: `bun src/main.ts …` in a child process (or the
 * command's function where main.ts only passes it through), asserting what is printed, the exit code and the
 * files written.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { configCommand, installCommand, secretsCommand, teamsCommand, usersCommand } from "../../../src/cli";

setDefaultTimeout(60_000);

const MAIN = resolve(import.meta.dir, "../../../src/main.ts");
/** The environment without the caller's LEOFLOW_* settings, so only what a test sets counts. */
const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("LEOFLOW_")));

function leoflow(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) {
  const r = Bun.spawnSync([process.execPath, MAIN, ...args], {
    cwd: opts.cwd ?? mkdtempSync(join(tmpdir(), "leoflow-cli-cwd-")),
    env: { ...CLEAN_ENV, ...opts.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function captureIo(env: Record<string, string> = {}) {
  const io = { text: "", out: (t: string) => void (io.text += t), env, readStdin: async () => "" };
  return io;
}

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), `leoflow-${prefix}-`));

function dagFile(dir: string, name: string, dagId: string): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ dag_id: dagId, tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] }));
  return path;
}

describe("dags validate with several paths", () => {
  test("checks every path given, prints each result and exits 1 when any is invalid", () => {
    const dir = tmp("validate");
    const good = dagFile(dir, "good.json", "good_dag");
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ dag_id: "bad_dag", tasks: [{ task_id: "t", operator: "nope" }] }));
    const r = leoflow(["dags", "validate", good, bad]);
    expect(r.stdout).toContain(`${good}: ok (good_dag)`);
    expect(r.stdout).toContain(`${bad}: `);
    expect(r.code).toBe(1);
  });

  test("files and folders together: every one ok exits 0", () => {
    const dir = tmp("validate-ok");
    const folder = join(dir, "more");
    mkdirSync(folder);
    const one = dagFile(dir, "one.json", "one_dag");
    const two = dagFile(folder, "two.json", "two_dag");
    const r = leoflow(["dags", "validate", one, folder]);
    expect(r.stdout).toBe(`${one}: ok (one_dag)\n${two}: ok (two_dag)\n`);
    expect(r.code).toBe(0);
  });
});

describe("--help on the local commands", () => {
  test.each([
    [["db", "migrate", "--help"], "db migrate"],
    [["db", "--help"], "db migrate"],
    [["agent", "--help"], "agent"],
    [["config", "show", "--help"], "config show"],
    [["config", "--help"], "config show"],
    [["users", "--help"], "users create"],
    [["users", "create", "-h"], "users create"],
    [["teams", "--help"], "teams create"],
    [["secrets", "--help"], "secrets rotate"],
    [["secrets", "rotate", "--help"], "secrets rotate"],
    [["install", "--help"], "install --systemd"],
    [["dags", "validate", "--help"], "dags validate"],
  ])("leoflow %p prints its usage to stdout and exits 0", (args, shows) => {
    const r = leoflow(args);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(`leoflow ${shows}`);
    expect(r.code).toBe(0);
  });
});

describe("install --systemd checks its flags before writing anything", () => {
  test.each([
    [["--data-dir", "relative/dir"], "relative/dir"],
    [["--user", "bad user!"], "bad user!"],
    [["--prefix", "opt/leo"], "opt/leo"],
  ])("%p is refused and the root stays empty", async (flags, named) => {
    const root = tmp("install-root");
    const binary = join(tmp("install-bin"), "leoflow");
    writeFileSync(binary, "#!/bin/sh\n");
    const io = captureIo();
    const run = installCommand(["--systemd", "--root", root, "--binary", binary, ...flags], io);
    await expect(run).rejects.toThrow(named);
    expect(readdirSync(root)).toEqual([]);
    expect(io.text).toBe("");
  });
});

describe("the store commands find the database as serve does", () => {
  function configFile(dataDir: string, extra = ""): string {
    const path = join(tmp("config"), "leoflow.toml");
    writeFileSync(path, `data_dir = ${JSON.stringify(dataDir)}\n${extra}`);
    return path;
  }

  test("db migrate uses LEOFLOW_DATA_DIR, --data-dir and the config file", () => {
    const a = join(tmp("data"), "a");
    let r = leoflow(["db", "migrate"], { env: { LEOFLOW_DATA_DIR: a } });
    expect(r.stdout).toBe(`migrated sqlite:${a}/leoflow.db\n`);
    expect(existsSync(join(a, "leoflow.db"))).toBe(true);
    const b = join(tmp("data"), "b");
    r = leoflow(["db", "migrate", "--data-dir", b]);
    expect(r.stdout).toBe(`migrated sqlite:${b}/leoflow.db\n`);
    const c = join(tmp("data"), "c");
    r = leoflow(["db", "migrate", "--config", configFile(c)]);
    expect(r.stdout).toBe(`migrated sqlite:${c}/leoflow.db\n`);
    expect(existsSync(join(c, "leoflow.db"))).toBe(true);
    const d = join(tmp("data"), "d.db");
    r = leoflow(["db", "migrate", "--db", `sqlite:${d}`]);
    expect(r.stdout).toBe(`migrated sqlite:${d}\n`);
  });

  test("users and teams read the config file (--config and LEOFLOW_CONFIG)", async () => {
    const dataDir = join(tmp("data"), "srv");
    const config = configFile(dataDir);
    expect(leoflow(["db", "migrate", "--data-dir", dataDir]).code).toBe(0);
    let io = captureIo();
    expect(await usersCommand(["create", "ada", "--role", "Op", "--password", "pw-of-ada", "--config", config], io)).toBe(0);
    io = captureIo({ LEOFLOW_CONFIG: config });
    expect(await usersCommand(["list"], io)).toBe(0);
    expect(io.text).toContain("ada");
    io = captureIo({ LEOFLOW_CONFIG: config });
    expect(await teamsCommand(["create", "data-eng"], io)).toBe(0);
    io = captureIo();
    expect(await teamsCommand(["list", "--config", config], io)).toBe(0);
    expect(io.text).toContain("data-eng");
    // The flags they had keep working, and win over the file.
    io = captureIo({ LEOFLOW_CONFIG: join(tmp("none"), "absent.toml") });
    expect(await usersCommand(["list", "--data-dir", dataDir, "--config", config], io)).toBe(0);
  });

  test("secrets rotate finds the database and the old key in the config file", async () => {
    const dataDir = join(tmp("data"), "srv");
    const oldKey = "11".repeat(32);
    const config = configFile(dataDir, `secrets_key = "${oldKey}"\n`);
    expect(leoflow(["db", "migrate", "--config", config]).code).toBe(0);
    const io = captureIo({ LEOFLOW_SECRETS_NEW_KEY: "22".repeat(32) });
    expect(await secretsCommand(["rotate", "--config", config], io)).toBe(0);
    expect(io.text).toContain("re-encrypted 0 row(s)");
  });

  test("without a database the message names the path and the ways to point at one", async () => {
    const dataDir = join(tmp("data"), "empty");
    const run = usersCommand(["list", "--config", configFile(dataDir)], captureIo());
    await expect(run).rejects.toThrow(`there is no database at ${dataDir}/leoflow.db`);
  });
});

describe("passwords in the --db query string", () => {
  test("config show masks password and sslpassword query values", async () => {
    const io = captureIo();
    const db = "postgres://u:pw-user@h/db?sslmode=require&password=zzz-secret&sslpassword=yyy-secret";
    expect(await configCommand(["show", "--db", db], io)).toBe(0);
    expect(io.text).toContain('db = "postgres://u:***@h/db?sslmode=require&password=***&sslpassword=***"  # flag');
    expect(io.text).not.toContain("zzz-secret");
    expect(io.text).not.toContain("yyy-secret");
  });
});

describe("error messages say what is wrong and where", () => {
  test("a start-up refusal of --db masks its query-string password", async () => {
    const run = configCommand(["show", "--mode", "pro", "--db", "mysql://u:pw@h/db?password=zzz-secret"], captureIo());
    await expect(run).rejects.toThrow('but --db is "mysql://u:***@h/db?password=***"');
  });

  test("a bad number from LEOFLOW_PORT names the environment variable", async () => {
    const run = configCommand(["show"], captureIo({ LEOFLOW_PORT: "abc" }));
    await expect(run).rejects.toThrow('LEOFLOW_PORT: expects a number, got "abc"');
  });

  test("a bad value from the config file names the file and its key", async () => {
    const path = join(tmp("config"), "leoflow.toml");
    writeFileSync(path, "port = 99999\n");
    const run = configCommand(["show", "--config", path], captureIo());
    await expect(run).rejects.toThrow(`${path}: port: must be at most 65535`);
  });

  test("a flag's bad value still names the flag", async () => {
    await expect(configCommand(["show", "--port", "abc"], captureIo())).rejects.toThrow('--port: expects a number, got "abc"');
  });

  test("serve --data-dir naming a file says so", () => {
    const dir = tmp("datadir-file");
    writeFileSync(join(dir, "afile"), "");
    const r = leoflow(["serve", "--data-dir", "afile", "--port", "0"], { cwd: dir });
    expect(r.stderr).toContain('--data-dir: "afile" is a file, not a folder');
    expect(r.code).toBe(2);
  });

  test.each(["999.1.1.1", "nohost.invalid", "10.255.255.1"])("serve --host %p names --host and its value", (host) => {
    const dir = tmp("bind");
    const r = leoflow(["serve", "--host", host, "--port", "0", "--data-dir", join(dir, "data"), "--dags-folder", dir], { cwd: dir });
    expect(r.stderr).toContain(`--host ${host}`);
    expect(r.stderr).toContain("127.0.0.1");
    expect(r.stderr).not.toContain("ENOENT: no such file or directory, listen");
    expect(r.code).toBe(1);
  });
});
