/**
 * Agents read secrets over the real RPC (GetVariable, GetConnection) in the clear while the store holds only
 * ciphertext; a control plane with another key answers a clear error, never the ciphertext or garbage.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { dial } from "../../src/agent";
import { AgentTokens } from "../../src/auth";
import { SecretsCipher } from "../../src/store";
import { parseDagSpec } from "../../src/domain/schemas";
import { silentLogger } from "../../src/observability";
import { createAgentRpcHandler } from "../../src/rpc";
import { buildDagRun } from "../../src/scheduler/trigger";
import { openStore, withSecrets, type Store } from "../../src/store";

const tokens = new AgentTokens("secrets-rpc-test-secret-32-bytes");
const KEY = new SecretsCipher(Buffer.alloc(32, 11));
const OTHER = new SecretsCipher(Buffer.alloc(32, 12));
let raw: Store;
let token = "";
const servers: ReturnType<typeof Bun.serve>[] = [];

/** The agent RPC over `raw` seen through `cipher`, on a port of its own. */
function controlPlane(cipher: SecretsCipher): string {
  const handler = createAgentRpcHandler({
    store: withSecrets(raw, cipher),
    tokens,
    logger: silentLogger,
    heartbeatIntervalSeconds: 1,
    onTaskStateChange: () => {},
  });
  const server = Bun.serve({ port: 0, fetch: async (req) => (await handler(req)) ?? new Response("not found", { status: 404 }) });
  servers.push(server);
  return `http://127.0.0.1:${server.port}`;
}

beforeAll(async () => {
  raw = openStore("sqlite::memory:");
  await raw.migrate();
  const now = new Date();
  const dag = await raw.upsertDag("default", {
    spec: parseDagSpec({ dag_id: "d", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] }),
    fileloc: "/dags/d.json",
    pausedOnCreate: false,
    now,
  });
  const run = await raw.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, now));
  const [ti] = (await raw.listTaskInstances("default", "d", run.run_id)).items;
  // Secrets are answered only to a live try.
  await raw.applyTransitions([{ id: ti!.id, from: ["none"], to: "scheduled" }], now);
  await raw.applyTransitions([{ id: ti!.id, from: ["scheduled"], to: "queued", try_number: 1 }], now);
  token = await tokens.issue({ tiId: ti!.id, tryNumber: 1, dagId: "d", runId: run.run_id, taskId: "t" }, 600);
  const store = withSecrets(raw, KEY);
  await store.putVariable("default", { key: "db_password", value: "pw-rpc-123", description: null }, now);
  await store.putConnection(
    "default",
    {
      connection_id: "warehouse",
      conn_type: "postgres",
      description: null,
      host: "db",
      login: "etl",
      password: "s3cret-rpc",
      schema: "dw",
      port: 5432,
      extra: '{"sslmode":"require"}',
    },
    now,
  );
});
afterAll(async () => {
  for (const s of servers) s.stop(true);
  await raw?.close();
});

test("GetVariable and GetConnection answer the plain values; the store holds ciphertext", async () => {
  expect(JSON.stringify([await raw.getVariable("default", "db_password"), await raw.getConnection("default", "warehouse")])).not.toMatch(
    /pw-rpc-123|s3cret-rpc|sslmode/,
  );
  const client = dial(controlPlane(KEY), token);
  expect(await client.getVariable({ key: "db_password" })).toMatchObject({ found: true, value: "pw-rpc-123" });
  expect(await client.getConnection({ connId: "warehouse" })).toMatchObject({
    found: true,
    password: "s3cret-rpc",
    extraJson: '{"sslmode":"require"}',
  });
});

test("a control plane with another key answers an error naming the cause, not ciphertext", async () => {
  const client = dial(controlPlane(OTHER), token);
  await expect(client.getVariable({ key: "db_password" })).rejects.toThrow(
    "cannot decrypt variable db_password: the secrets key differs from the one it was written with",
  );
  await expect(client.getConnection({ connId: "warehouse" })).rejects.toThrow("cannot decrypt connection warehouse (password)");
});
