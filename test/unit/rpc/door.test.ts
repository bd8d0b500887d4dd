import { describe, expect, test } from "bun:test";
import { AgentTokens } from "../../../src/auth/agent-token";
import { passDoor } from "../../../src/rpc/door";

const tokens = new AgentTokens("door-test-secret-0123456789abcdef");
const id = { tiId: 7, tryNumber: 1, dagId: "etl", runId: "manual__1", taskId: "extract" };
const t0 = new Date("2026-01-01T00:00:00Z");
const opts = { tokens, maxBodyBytes: 1024, now: () => t0 };

/** A body that fails the test if anyone reads it. */
function untouchable() {
  const touched = { read: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        touched.read = true;
        c.enqueue(new Uint8Array(1024));
      },
    },
    { highWaterMark: 0 },
  ); // nothing is pulled until someone reads
  return { stream, touched };
}

const request = (body: BodyInit | null, headers: Record<string, string>) =>
  new Request("http://x/leoflow.agent.v1.AgentService/Heartbeat", { method: "POST", body, headers, duplex: "half" } as RequestInit);

async function refusal(r: Awaited<ReturnType<typeof passDoor>>) {
  if (r.ok) throw new Error("the door let the request in");
  return { status: r.response.status, body: (await r.response.json()) as { code: string; message: string } };
}

describe("the agent door", () => {
  test("no token: 401 unauthenticated, body never read", async () => {
    const { stream, touched } = untouchable();
    const r = await refusal(await passDoor(request(stream, { "content-type": "application/proto" }), "Heartbeat", opts));
    expect(r.status).toBe(401);
    expect(r.body.code).toBe("unauthenticated");
    expect(r.body.message).toContain("missing agent token");
    expect(touched.read).toBe(false);
  });

  test("an expired or foreign token: 401 saying why, body never read", async () => {
    const expired = await tokens.issue(id, 60, new Date(t0.getTime() - 3600_000));
    const foreign = await new AgentTokens("another-control-plane-secret!!").issue(id, 60, t0);
    for (const [token, why] of [
      [expired, "expired"],
      [foreign, "signature is invalid"],
    ]) {
      const { stream, touched } = untouchable();
      const r = await refusal(await passDoor(request(stream, { authorization: `Bearer ${token}` }), "Heartbeat", opts));
      expect(r).toMatchObject({ status: 401, body: { code: "unauthenticated" } });
      expect(r.body.message).toContain(why!);
      expect(touched.read).toBe(false);
    }
  });

  test("a valid token with a body over the limit: resource_exhausted naming the limit and the flag", async () => {
    const token = await tokens.issue(id, 60, t0);
    const r = await refusal(
      await passDoor(request(new Uint8Array(2048), { authorization: `Bearer ${token}`, "content-length": "2048" }), "AppendLogs", opts),
    );
    expect(r.body.code).toBe("resource_exhausted");
    expect(r.body.message).toBe(
      "AppendLogs request body is larger than the agent RPC limit of 1 KiB (Content-Length 2048); the control plane's --rpc-max-body (LEOFLOW_RPC_MAX_BODY) sets it",
    );
  });

  test("a valid token and a body within the limit pass with the identity", async () => {
    const token = await tokens.issue(id, 60, t0);
    const r = await passDoor(request(new Uint8Array(1024).fill(1), { authorization: `Bearer ${token}` }), "Heartbeat", opts);
    expect(r.ok && r.token).toEqual({ id, expiresAt: new Date(t0.getTime() + 60_000) });
    expect(r.ok && r.body.byteLength).toBe(1024);
  });
});
