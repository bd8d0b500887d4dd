import { afterAll, describe, expect, test } from "bun:test";
import { Code, ConnectError, createConnectRouter } from "@connectrpc/connect";
import { universalServerRequestFromFetch, universalServerResponseToFetch } from "@connectrpc/connect/protocol";
import { AgentService } from "../../../src/gen/leoflow/agent/v1/agent_pb";
import { AgentRpcError, dial } from "../../../src/agent";

// A stub control plane: Register fails with Unavailable twice then answers; Heartbeat is always refused.
let registerCalls = 0;
let seenAuth = "";
const router = createConnectRouter().service(AgentService, {
  register(_req, ctx) {
    seenAuth = ctx.requestHeader.get("authorization") ?? "";
    if (++registerCalls <= 2) throw new ConnectError("restarting", Code.Unavailable);
    return { dagId: "etl", heartbeatIntervalSeconds: 7 };
  },
  heartbeat() {
    throw new ConnectError("token for another task instance", Code.PermissionDenied);
  },
});
const handlers = new Map(router.handlers.map((h) => [h.requestPath, h]));
const server = Bun.serve({
  port: 0,
  fetch: async (req) => {
    const h = handlers.get(new URL(req.url).pathname);
    return h ? universalServerResponseToFetch(await h(universalServerRequestFromFetch(req, {}))) : new Response("", { status: 404 });
  },
});
afterAll(() => server.stop(true));

// The stub is connect-es's own router: the hand-written JSON client must speak its protocol.
describe("dial", () => {
  test("sends the bearer token and retries Unavailable with backoff", async () => {
    const slept: number[] = [];
    const client = dial(`http://127.0.0.1:${server.port}/`, "tok-1", { sleep: async (ms) => void slept.push(ms) });
    const res = await client.register({ hostname: "h" });
    expect(res.dagId).toBe("etl");
    expect(res.heartbeatIntervalSeconds).toBe(7);
    expect(seenAuth).toBe("Bearer tok-1");
    expect(slept).toEqual([1000, 2000]);
  });

  test("does not retry PermissionDenied", async () => {
    const slept: number[] = [];
    const client = dial(`http://127.0.0.1:${server.port}`, "tok-1", { sleep: async (ms) => void slept.push(ms) });
    const err = await client.heartbeat({}).catch((e) => e);
    expect(err).toBeInstanceOf(AgentRpcError);
    expect(err.code).toBe("permission_denied");
    expect(err.rawMessage).toBe("token for another task instance");
    expect(slept).toEqual([]);
  });

  test("a control plane that never answers: 14 retries (1, 2, 4, 8, 16 s, then every 30 s: ~5 minutes), then the error", async () => {
    const closed = Bun.serve({ port: 0, fetch: () => new Response("") });
    const port = closed.port;
    closed.stop(true);
    const slept: number[] = [];
    const client = dial(`http://127.0.0.1:${port}`, "t", { sleep: async (ms) => void slept.push(ms) });
    const err = await client.register({}).catch((e) => e);
    expect(err).toBeInstanceOf(AgentRpcError);
    expect(err.code).toBe("unavailable");
    expect(slept).toEqual([1000, 2000, 4000, 8000, 16000, ...Array(9).fill(30000)]);
  });
});
