/**
 * Teams over the real agent RPC (issue 21): a task reads the variables and connections of its own team only.
 * Two teams each have a DAG "d" with a live try; they share a variable key with different values, and each
 * has a connection and a variable the other does not. A token of one team never gets the other's, not even
 * by name; behind withSecrets, as the server runs, so each team's envelopes open under their own team.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { dial } from "../../src/agent";
import { AgentTokens } from "../../src/auth";
import { DEFAULT_TEAM, type ConnectionRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { silentLogger } from "../../src/observability";
import { createAgentRpcHandler } from "../../src/rpc";
import { buildDagRun } from "../../src/scheduler/trigger";
import { SecretsCipher, openStore, withSecrets, type Store } from "../../src/store";

const A = DEFAULT_TEAM;
const B = "team-b";
const tokens = new AgentTokens("teams-rpc-test-secret-32-bytes!!");
let store: Store;
let server: ReturnType<typeof Bun.serve>;
const tokenOf: Record<string, string> = {};

const warehouse = (host: string, password: string): ConnectionRecord => ({
  connection_id: "warehouse",
  conn_type: "postgres",
  description: null,
  host,
  login: "etl",
  password,
  schema: "dw",
  port: 5432,
  extra: null,
});

/** DAG "d" of `team` with one run whose only task is queued (live), and a token for that try. */
async function liveTry(team: string, now: Date): Promise<string> {
  const dag = await store.upsertDag(team, {
    spec: parseDagSpec({ dag_id: "d", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] }),
    fileloc: `/dags/${team}/d.json`,
    pausedOnCreate: false,
    now,
  });
  const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, now));
  const ti = await store.getTaskInstance(team, "d", run.run_id, "t");
  if (!ti) throw new Error(`no task instance d/${run.run_id}/t in team ${team}`);
  await store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], now);
  await store.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "queued", try_number: 1 }], now);
  return tokens.issue({ tiId: ti.id, tryNumber: 1, dagId: "d", runId: run.run_id, taskId: "t" }, 600);
}

beforeAll(async () => {
  const raw = openStore("sqlite::memory:");
  await raw.migrate();
  store = withSecrets(raw, new SecretsCipher(Buffer.alloc(32, 21)));
  const now = new Date();
  await store.createTeam(
    { name: B, description: null, max_running_tasks: null, max_pool_slots: null, max_inline_requests: null, executor_policy: {} },
    now,
  );
  tokenOf[A] = await liveTry(A, now);
  tokenOf[B] = await liveTry(B, now);
  await store.putConnection(A, warehouse("db-a", "pw-a"), now);
  await store.putVariable(A, { key: "db_password", value: "secret-a", description: null }, now);
  await store.putVariable(A, { key: "region", value: "eu", description: null }, now);
  await store.putVariable(B, { key: "region", value: "us", description: null }, now);
  await store.putConnection(B, { ...warehouse("db-b", "pw-b"), connection_id: "lake" }, now);
  const handler = createAgentRpcHandler({ store, tokens, logger: silentLogger, heartbeatIntervalSeconds: 1, onTaskStateChange: () => {} });
  server = Bun.serve({ port: 0, fetch: async (req) => (await handler(req)) ?? new Response("not found", { status: 404 }) });
});
afterAll(async () => {
  server?.stop(true);
  await store?.close();
});

const agentOf = (team: string) => dial(`http://127.0.0.1:${server.port}`, tokenOf[team] ?? "");

test("a task of team B cannot read team A's connection or variable, even by name", async () => {
  const b = agentOf(B);
  expect(await b.getConnection({ connId: "warehouse" })).toMatchObject({ found: false, host: "", password: "" });
  expect(await b.getVariable({ key: "db_password" })).toMatchObject({ found: false, value: "" });
  // Team A's own task reads them.
  const a = agentOf(A);
  expect(await a.getConnection({ connId: "warehouse" })).toMatchObject({ found: true, host: "db-a", password: "pw-a" });
  expect(await a.getVariable({ key: "db_password" })).toMatchObject({ found: true, value: "secret-a" });
});

test("the same key answers each task its own team's value; a team's own connection is found only by its tasks", async () => {
  expect(await agentOf(A).getVariable({ key: "region" })).toMatchObject({ found: true, value: "eu" });
  expect(await agentOf(B).getVariable({ key: "region" })).toMatchObject({ found: true, value: "us" });
  expect(await agentOf(B).getConnection({ connId: "lake" })).toMatchObject({ found: true, host: "db-b", password: "pw-b" });
  expect((await agentOf(A).getConnection({ connId: "lake" })).found).toBe(false);
});
