/**
 * The agent asks Register for its try's spec (includeSpec), saving a round trip before its task starts.
 * Register stays the fence: when it is refused (another agent, a reaper or a mark got there first) no user
 * process starts; a control plane that answers no spec (older, or it could not build one) is asked with
 * GetTaskSpec as before. A stand-in client answers; the task leaves a file behind when it runs. Nothing of the
 * try is left in TMPDIR either way.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentRpcError, runAgent, type AgentClient, type RegisterResponse } from "../../../src/agent";
import type { Logger } from "../../../src/observability";

// The try's folder is made under TMPDIR: a private one per test shows what the agent left behind.
let tmp = "";
const realTmp = process.env.TMPDIR;
const outside = tmpdir();
beforeEach(() => {
  tmp = mkdtempSync(join(outside, "leoflow-register-tmp-"));
  process.env.TMPDIR = tmp;
});
/** Folders this file made outside the per-test TMPDIR (the markers'), removed after each test with it. */
const made: string[] = [];
afterEach(() => {
  for (const dir of [tmp, ...made.splice(0)]) rmSync(dir, { recursive: true, force: true });
  if (realTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = realTmp;
});

function recorder(): { logger: Logger; errors: Record<string, unknown>[] } {
  const errors: Record<string, unknown>[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn() {},
    error: (_msg, fields) => void errors.push(fields ?? {}),
    child: () => logger,
  };
  return { logger, errors };
}

const specOf = (marker: string) => ({
  dagId: "d",
  runId: "r",
  taskId: "t",
  tryNumber: 1,
  operator: "bash",
  taskJson: JSON.stringify({
    task_id: "t",
    operator: "bash",
    upstream: [],
    bash_command: `touch ${marker}; echo '{"n": 1}' > "$LEOFLOW_RETURN_VALUE_PATH"`,
  }),
  env: {},
  xcomInputs: {},
  dagFile: "",
  timeoutSeconds: 0,
  logicalDate: "",
  confJson: "{}",
  paramsJson: "{}",
  secrets: [],
  templateError: "",
  pythonRequirements: [],
  logSeqStart: "0",
});

/** A client whose Register answers `register()`; what the agent called and reported is recorded. */
function client(marker: string, register: () => Promise<RegisterResponse>) {
  const calls: string[] = [];
  const reported: string[] = [];
  const pushed: string[] = [];
  /** Log lines as they reached the control plane, by seq, and by which call. */
  const lines: { seq: number; line: string; via: "AppendLogs" | "ReportState" }[] = [];
  const c: AgentClient = {
    register: async (req) => (calls.push(`register includeSpec=${req.includeSpec}`), register()),
    getTaskSpec: async () => (calls.push("getTaskSpec"), specOf(marker)),
    appendLogs: async (req) => {
      calls.push("appendLogs");
      for (const [i, l] of req.lines.entries()) lines.push({ seq: req.firstSeq + i, line: l.line, via: "AppendLogs" });
    },
    heartbeat: async () => ({ shouldStop: false, reason: "", renewedToken: "" }),
    pushXCom: async (req) => void pushed.push(req.valueJson),
    reportState: async (req) => {
      calls.push("reportState");
      for (const [i, l] of (req.logs?.lines ?? []).entries()) lines.push({ seq: req.logs!.firstSeq + i, line: l.line, via: "ReportState" });
      reported.push(req.state);
      return { state: req.state };
    },
    getVariable: async () => ({ found: false, value: "", secret: false }),
    getConnection: async () => ({ found: false, connType: "", host: "", login: "", password: "", schema: "", port: 0, extraJson: "" }),
  };
  return { c, calls, reported, pushed, lines };
}

const registered = { dagId: "d", runId: "r", taskId: "t", tryNumber: 1, heartbeatIntervalSeconds: 0, reportTakesLogs: false };
const newMarker = () => {
  const dir = mkdtempSync(join(outside, "leoflow-register-"));
  made.push(dir);
  return join(dir, "ran");
};
// Lines are held a minute before a batch goes on its own, so the calls below do not depend on how fast this machine
// runs the task: whatever is still held at the end goes in one AppendLogs (or with the report).
const run = (c: AgentClient, logger: Logger) =>
  runAgent({ server: "http://127.0.0.1:1", token: "t", logger, client: c, env: { PATH: process.env.PATH }, logFlushMs: 60_000 });

test("a refused Register: the task never starts, the agent exits 2 with Register's error, leaving nothing behind", async () => {
  const marker = newMarker();
  const { logger, errors } = recorder();
  const { c, calls, reported } = client(marker, () =>
    Promise.reject(new AgentRpcError("failed_precondition", "try 1 is stale", "Register")),
  );
  expect(await run(c, logger)).toBe(2);
  expect(calls).toEqual(["register includeSpec=true"]);
  expect(reported).toEqual([]);
  expect(errors).toEqual([{ code: "failed_precondition", method: "Register", error: "try 1 is stale" }]);
  expect(readdirSync(tmp)).toEqual([]);
  await Bun.sleep(50); // a process started by mistake would have touched the file by now
  expect(existsSync(marker)).toBe(false);
});

test("Register answers the spec: no GetTaskSpec; the task runs once, its return value is pushed, its temp folder goes", async () => {
  const marker = newMarker();
  const { logger, errors } = recorder();
  const { c, calls, reported, pushed } = client(marker, async () => ({ ...registered, spec: specOf(marker) }));
  expect(await run(c, logger)).toBe(0);
  expect(errors).toEqual([]);
  expect(calls).toEqual(["register includeSpec=true", "appendLogs", "reportState"]);
  expect(reported).toEqual(["success"]);
  expect(pushed).toEqual(['{"n":1}']);
  expect(existsSync(marker)).toBe(true);
  expect(readdirSync(tmp)).toEqual([]);
});

test("a control plane that answers no spec is asked with GetTaskSpec, as before", async () => {
  const marker = newMarker();
  const { logger, errors } = recorder();
  const { c, calls, reported } = client(marker, async () => registered);
  expect(await run(c, logger)).toBe(0);
  expect(errors).toEqual([]);
  expect(calls).toEqual(["register includeSpec=true", "getTaskSpec", "appendLogs", "reportState"]);
  expect(reported).toEqual(["success"]);
  expect(existsSync(marker)).toBe(true);
});

test("a control plane that takes the last lines with the report gets them there: no AppendLogs, every line once, in order", async () => {
  const marker = newMarker();
  const { logger, errors } = recorder();
  const { c, calls, reported, lines } = client(marker, async () => ({ ...registered, reportTakesLogs: true, spec: specOf(marker) }));
  expect(await run(c, logger)).toBe(0);
  expect(errors).toEqual([]);
  expect(calls).toEqual(["register includeSpec=true", "reportState"]);
  expect(reported).toEqual(["success"]);
  expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i));
  expect(lines.every((l) => l.via === "ReportState")).toBe(true);
  expect(lines[0]!.line).toStartWith("leoflow agent on ");
  expect(lines.at(-1)!.line).toStartWith("exit code 0 after ");
});

test("an older control plane (reportTakesLogs false) gets every line by AppendLogs before the report, as before", async () => {
  const marker = newMarker();
  const { logger } = recorder();
  const { c, calls, lines } = client(marker, async () => ({ ...registered, spec: specOf(marker) }));
  expect(await run(c, logger)).toBe(0);
  expect(calls).toEqual(["register includeSpec=true", "appendLogs", "reportState"]);
  expect(lines.every((l) => l.via === "AppendLogs")).toBe(true);
  expect(lines.at(-1)!.line).toStartWith("exit code 0 after ");
});
