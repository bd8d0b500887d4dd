/** Agents read variables and connections over the real RPC (GetVariable, GetConnection), in the clear. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { parseDagSpec } from "../../src/domain/schemas";
import { openStore, type Store } from "../../src/store";
import { createAgentRpcHandler } from "../../src/rpc";
import { AgentTokens } from "../../src/auth";
import { dial } from "../../src/agent";
import { silentLogger } from "../../src/observability";
import { buildDagRun } from "../../src/scheduler/trigger";

const tokens = new AgentTokens("integration-test-secret-32-bytes");
let store: Store;
let server: ReturnType<typeof Bun.serve>;
let token = "";

beforeAll(async () => {
  store = openStore("sqlite::memory:");
  await store.migrate();
  const now = new Date();
  const dag = await store.upsertDag("default", {
    spec: parseDagSpec({ dag_id: "d", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] }),
    fileloc: "/dags/d.json",
    pausedOnCreate: false,
    now,
  });
  const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, now));
  const [ti] = (await store.listTaskInstances("default", "d", run.run_id)).items;
  // Dispatched, as the scheduler leaves it: a token reads secrets only while its try is queued or running.
  await store.applyTransitions([{ id: ti!.id, from: ["none"], to: "scheduled" }], now);
  await store.applyTransitions([{ id: ti!.id, from: ["scheduled"], to: "queued", patch: { queued_at: now } }], now);
  token = await tokens.issue({ tiId: ti!.id, tryNumber: 1, dagId: "d", runId: run.run_id, taskId: "t" }, 600);
  await store.putVariable("default", { key: "db_password", value: "pw-123", description: null }, now);
  await store.putConnection(
    "default",
    {
      connection_id: "warehouse",
      conn_type: "postgres",
      description: null,
      host: "db",
      login: "etl",
      password: "s3cret",
      schema: "dw",
      port: 5432,
      extra: '{"sslmode":"require"}',
    },
    now,
  );
  const handler = createAgentRpcHandler({ store, tokens, logger: silentLogger, heartbeatIntervalSeconds: 1, onTaskStateChange: () => {} });
  server = Bun.serve({ port: 0, fetch: async (req) => (await handler(req)) ?? new Response("not found", { status: 404 }) });
});
afterAll(async () => {
  server?.stop(true);
  await store?.close();
});

test("GetVariable answers the stored value, or found=false", async () => {
  const client = dial(`http://127.0.0.1:${server.port}`, token);
  expect(await client.getVariable({ key: "db_password" })).toMatchObject({ found: true, value: "pw-123" });
  expect(await client.getVariable({ key: "nope" })).toMatchObject({ found: false, value: "" });
});

test("GetConnection answers every field with the real password, or found=false", async () => {
  const client = dial(`http://127.0.0.1:${server.port}`, token);
  expect(await client.getConnection({ connId: "warehouse" })).toMatchObject({
    found: true,
    connType: "postgres",
    host: "db",
    login: "etl",
    password: "s3cret",
    schema: "dw",
    port: 5432,
    extraJson: '{"sslmode":"require"}',
  });
  expect((await client.getConnection({ connId: "nope" })).found).toBe(false);
});

test("without a valid token nothing is answered", async () => {
  const client = dial(`http://127.0.0.1:${server.port}`, "not-a-token");
  await expect(client.getVariable({ key: "db_password" })).rejects.toThrow();
});
