/**
 * The binary as the systemd unit runs it: `serve --config FILE` with the unit's `Environment=` lines and the
 * settings from the file, readiness and watchdog datagrams on NOTIFY_SOCKET (a python3 receiver plays systemd),
 * SIGHUP re-reading the file (log level and format) without a restart, and JSON lines with syslog priorities
 * when stderr is the journal's stream.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY } from "./harness";
import { loginAsAdmin, servingUrl, spawnCapturing, waitFor } from "../support/leoflow-process";
import { unitEnvironment } from "../support/unit-environment";

setDefaultTimeout(60_000);
const work = mkdtempSync(join(tmpdir(), "leoflow-service-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function writeConfig(path: string, extra: string): void {
  writeFileSync(
    path,
    `data_dir = "${work}/data"
dags_folder = "${work}/dags"
port = 0
admin_password = "from-the-config-file"
jwt_secret = "${"a1".repeat(32)}"
secrets_key = "${"b2".repeat(32)}"
${extra}`,
    { mode: 0o600 },
  );
}

/** A unix datagram socket printing each datagram as a JSON line (what systemd's notify socket receives). */
function notifyReceiver(path: string) {
  const py = `import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("bound"), flush=True)
while True:
    print(json.dumps(s.recv(4096).decode()), flush=True)`;
  const r = spawnCapturing(["python3", "-c", py, path], { cwd: work, env: process.env });
  return {
    ...r,
    messages: () =>
      r
        .output()
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string),
  };
}

describe.if(process.platform === "linux" && Bun.which("python3") !== null)("serve under systemd", () => {
  test("READY once serving, WATCHDOG while the scheduler is healthy, STOPPING on SIGTERM; settings from the file", async () => {
    mkdirSync(join(work, "dags"), { recursive: true });
    const config = join(work, "leoflow.toml");
    writeConfig(config, 'log_level = "info"\nlog_format = "text"\n');
    const socket = join(work, "notify.sock");
    const receiver = notifyReceiver(socket);
    await waitFor(
      () => receiver.messages().includes("bound"),
      10_000,
      () => `the receiver did not start: ${receiver.output()}`,
    );
    const server = spawnCapturing([BINARY, "serve", "--config", config], {
      cwd: work,
      env: { ...process.env, ...unitEnvironment(), NOTIFY_SOCKET: socket, WATCHDOG_USEC: "400000", LEOFLOW_SWEEP_INTERVAL: "0.1" },
    });
    try {
      const url = await waitFor(
        () => servingUrl(server.output()),
        20_000,
        () => `server did not start:\n${server.output()}`,
      );
      const ready = await waitFor(
        () => receiver.messages().find((m) => m.startsWith("READY=1")),
        5_000,
        () => `no READY: ${receiver.output()}`,
      );
      expect(ready).toBe(`READY=1\nSTATUS=serving ${url}\nMAINPID=${server.proc.pid}`);
      await waitFor(
        () => receiver.messages().filter((m) => m === "WATCHDOG=1").length >= 2,
        5_000,
        () => `no WATCHDOG: ${receiver.output()}`,
      );
      await loginAsAdmin(url, "from-the-config-file"); // the admin password came from the file
      // The unit's runtime settings reach the process: JavaScriptCore started no GC block warm-up thread.
      const threads = readdirSync(`/proc/${server.proc.pid}/task`).map((t) =>
        readFileSync(`/proc/${server.proc.pid}/task/${t}/comm`, "utf8").trim(),
      );
      expect(threads).toContain("JITWorker"); // the names are JavaScriptCore's own: this reads the right process
      expect(threads).not.toContain("JSCWarmUp");

      // SIGHUP: the file again; log settings apply at once, the others wait for a restart and say so.
      writeConfig(config, 'log_level = "debug"\nlog_format = "json"\nparallelism = 3\n');
      server.proc.kill("SIGHUP");
      const reloaded = await waitFor(
        () =>
          server
            .output()
            .split("\n")
            .find((l) => l.includes('"msg":"reload: DAG folder rescanned"')),
        10_000,
        () => `no reload:\n${server.output()}`,
      );
      expect(JSON.parse(reloaded)).toMatchObject({ level: "info", component: "leoflow" });
      const warned =
        server
          .output()
          .split("\n")
          .find((l) => l.includes("change only on restart")) ?? "";
      expect(JSON.parse(warned)).toMatchObject({ level: "warn", settings: "parallelism" });
      expect(server.proc.exitCode).toBeNull(); // still running: SIGHUP did not end it

      server.proc.kill("SIGTERM");
      expect(await server.proc.exited).toBe(0);
      await waitFor(
        () => receiver.messages().includes("STOPPING=1"),
        5_000,
        () => `no STOPPING: ${receiver.output()}`,
      );
    } finally {
      server.proc.kill("SIGKILL");
      receiver.proc.kill();
    }
  });

  test("an invalid file on SIGHUP keeps the running configuration", async () => {
    const config = join(work, "hup.toml");
    writeConfig(config, "");
    const server = spawnCapturing([BINARY, "serve", "--config", config], { cwd: work, env: process.env });
    try {
      await waitFor(
        () => servingUrl(server.output()),
        20_000,
        () => `server did not start:\n${server.output()}`,
      );
      writeFileSync(config, "prot = 1\n");
      server.proc.kill("SIGHUP");
      await waitFor(
        () => server.output().includes("SIGHUP: the configuration is invalid, keeping the running one"),
        10_000,
        () => server.output(),
      );
      expect(server.output()).toContain("prot is not a setting; did you mean port?");
      expect(server.proc.exitCode).toBeNull();
    } finally {
      server.proc.kill("SIGKILL");
    }
  });
});

test.if(process.platform === "linux")("logs are JSON lines with syslog priorities when stderr is the journal's stream", async () => {
  // systemd names the journal stream in JOURNAL_STREAM ("device:inode"); a file stands in for it here.
  const log = join(work, "journal.log");
  const fd = openSync(log, "w");
  const st = statSync(log);
  const proc = Bun.spawn([BINARY, "serve", "--data-dir", join(work, "j"), "--db", "postgres://nobody@127.0.0.1:1/none", "--port", "0"], {
    stdout: "ignore",
    stderr: fd,
    env: { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}`, LEOFLOW_LOG_FORMAT: undefined },
  });
  expect(await proc.exited).toBe(1);
  closeSync(fd);
  const lines = readFileSync(log, "utf8").trim().split("\n");
  const error = lines.find((l) => l.startsWith("<3>"));
  expect(error).toBeDefined();
  expect(JSON.parse(error!.slice(3))).toMatchObject({ level: "error", component: "leoflow", msg: "could not start" });
  for (const line of lines) expect(line).toMatch(/^<[3-7]>\{/);
});
