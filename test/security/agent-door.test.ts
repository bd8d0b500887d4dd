/**
 * The agent door against the real binary: anonymous bodies are refused unread (RSS stays put), every body
 * has a limit, and a token opens the door only while its try is live and before it expires. RSS bounds
 * are memory assertions (the server's /proc/PID/status VmRSS), not timings.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLeoflow, waitForRun, type Leoflow } from "../e2e/harness";
import { AgentTokens } from "../../src/auth/agent-token";
import { AgentRpcError, dial } from "../../src/agent/client";

const SECRET = "agent-door-test-secret-0123456789";
const MiB = 1024 * 1024;
const HEARTBEAT = "/leoflow.agent.v1.AgentService/Heartbeat";
let lf: Leoflow;
setDefaultTimeout(60_000); // 40 posts of 20 MiB each per test on a shared machine

const rssMiB = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${lf.proc.pid}/status`, "utf8"))![1]) / 1024;
const junk = new Uint8Array(20 * MiB).fill(10);
/** 20 MiB sent chunked (no Content-Length), so only counting can stop it. */
const chunked = () =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < 20; i++) c.enqueue(junk.subarray(i * MiB, (i + 1) * MiB));
      c.close();
    },
  });

/** POSTs `n` bodies, one at a time; returns the statuses and answers seen (a reset connection counts as "reset"). */
async function postMany(
  n: number,
  path: string,
  headers: Record<string, string>,
  body: () => BodyInit,
): Promise<{ statuses: Set<number | string>; answers: Set<string> }> {
  const statuses = new Set<number | string>();
  const answers = new Set<string>();
  for (let i = 0; i < n; i++) {
    try {
      const res = await fetch(lf.url + path, { method: "POST", headers, body: body(), duplex: "half" } as RequestInit);
      statuses.add(res.status);
      answers.add(await res.text());
    } catch {
      statuses.add("reset");
    }
  }
  return { statuses, answers };
}

async function rpcError(p: Promise<unknown>): Promise<AgentRpcError> {
  const e = await p.then(
    () => new Error("the call succeeded"),
    (e) => e,
  );
  if (!(e instanceof AgentRpcError)) throw e;
  return e;
}

beforeAll(async () => {
  const dags = mkdtempSync(join(tmpdir(), "leoflow-door-dags-"));
  mkdirSync(join(dags, "dags"));
  // The task hands its own agent token out as its return value: what user code holding the token could do.
  writeFileSync(
    join(dags, "dags", "door.json"),
    JSON.stringify({
      dag_id: "door",
      tasks: [
        {
          task_id: "leak",
          operator: "bash",
          execution_timeout: 60,
          bash_command: 'echo hello; printf \'"%s"\' "$LEOFLOW_AGENT_TOKEN" > "$LEOFLOW_RETURN_VALUE_PATH"',
        },
      ],
    }),
  );
  lf = await startLeoflow({ dagsFrom: join(dags, "dags"), args: ["--jwt-secret", SECRET] });
}, 30_000);

afterAll(async () => {
  await lf?.stop();
});

describe("body limits", () => {
  test("20 anonymous 20 MiB posts, sized and chunked: 401 unauthenticated, nothing read, RSS bounded", async () => {
    await fetch(lf.url + HEARTBEAT, { method: "POST" }); // the RPC module is loaded before the baseline
    const before = rssMiB();
    for (const body of [() => junk, chunked]) {
      const { statuses, answers } = await postMany(20, HEARTBEAT, { "content-type": "application/proto" }, body);
      expect([...statuses].filter((s) => s !== 401 && s !== "reset")).toEqual([]);
      for (const a of answers)
        expect(JSON.parse(a)).toMatchObject({ code: "unauthenticated", message: expect.stringContaining("missing agent token") });
    }
    expect(rssMiB()).toBeLessThan(before + 100);
  });

  test("an authenticated body over --rpc-max-body: resource_exhausted naming the limit and the flag, RSS bounded", async () => {
    const token = await new AgentTokens(SECRET).issue({ tiId: 1, tryNumber: 1, dagId: "door", runId: "x", taskId: "leak" }, 600);
    const headers = { "content-type": "application/proto", authorization: `Bearer ${token}` };
    const before = rssMiB();
    for (const [body, seen] of [
      [() => junk, "Content-Length 20971520"],
      [chunked, "more than 4194304 bytes received"],
    ] as const) {
      const { statuses, answers } = await postMany(20, HEARTBEAT, headers, body);
      expect([...statuses].filter((s) => s !== 429 && s !== "reset")).toEqual([]);
      for (const a of answers)
        expect(JSON.parse(a)).toEqual({
          code: "resource_exhausted",
          message: `Heartbeat request body is larger than the agent RPC limit of 4 MiB (${seen}); the control plane's --rpc-max-body (LEOFLOW_RPC_MAX_BODY) sets it`,
        });
    }
    expect(rssMiB()).toBeLessThan(before + 100);
  });

  test("the HTTP API refuses a body over --api-max-body with 413 and a detail", async () => {
    for (const body of [() => junk, chunked]) {
      const { statuses, answers } = await postMany(3, "/api/v2/variables", { "content-type": "application/json" }, body);
      expect([...statuses].filter((s) => s !== 413 && s !== "reset")).toEqual([]);
      for (const a of answers) expect(JSON.parse(a).detail).toContain("larger than the API limit of 1048576 bytes");
    }
  });
});

describe("tokens", () => {
  test("a finished try's own token can no longer push XCom, append logs or read secrets", async () => {
    const trigger = await lf.api("POST", "/api/v2/dags/door/dagRuns", { dag_run_id: "r1", logical_date: null });
    expect(trigger).toMatchObject({ status: 200 });
    expect((await waitForRun(lf, "door", "r1")).state).toBe("success");
    const xcomPath = "/api/v2/dags/door/dagRuns/r1/taskInstances/leak/xcomEntries/return_value";
    const token = (await lf.api("GET", xcomPath)).body.value as string;
    expect(token.split(".")).toHaveLength(3);

    // The token expires at queue wait (300 s) + execution_timeout (60 s) + grace (agent_lost_after 60 s + 60 s).
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
    expect(claims.exp - claims.iat).toBe(300 + 60 + 120);

    const agent = dial(lf.url, token);
    for (const call of [
      () => agent.pushXCom({ key: "return_value", valueJson: '"overwritten"' }),
      () => agent.appendLogs({ firstSeq: 1000, lines: [{ timestampMs: Date.now(), stream: "stdout", line: "forged line" }] }),
      () => agent.getVariable({ key: "anything" }),
      () => agent.getTaskSpec({}),
    ]) {
      const e = await rpcError(call());
      expect(e.code).toBe("permission_denied");
      expect(e.rawMessage).toContain("task instance door/r1/leak try 1 is success, no longer queued or running");
    }
    expect((await lf.api("GET", xcomPath)).body.value).toBe(token);
    const log = await lf.api("GET", "/api/v2/dags/door/dagRuns/r1/taskInstances/leak/logs/1?full_content=true");
    expect(JSON.stringify(log.body)).toContain("hello");
    expect(JSON.stringify(log.body)).not.toContain("forged line");
    // The agent's resend of its final report still answers, and its heartbeat says stop.
    expect((await agent.reportState({ state: "success", exitCode: 0, error: "" })).state).toBe("success");
    expect((await agent.heartbeat({})).shouldStop).toBe(true);
  });

  test("an expired token is refused as unauthenticated, saying it expired", async () => {
    const token = await new AgentTokens(SECRET).issue(
      { tiId: 1, tryNumber: 1, dagId: "door", runId: "r1", taskId: "leak" },
      60,
      new Date(Date.now() - 3600_000),
    );
    const e = await rpcError(dial(lf.url, token).heartbeat({}));
    expect(e.code).toBe("unauthenticated");
    expect(e.rawMessage).toContain("agent token expired");
  });
});
