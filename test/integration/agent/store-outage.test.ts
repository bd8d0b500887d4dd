/**
 * A database outage while a task ends. Found by a tester: with Postgres unreachable for 10 s, every agent whose
 * task ended meanwhile was answered `internal`, gave up at once (exit 2), and its task, which had run to the end,
 * was recorded failed (or agent_lost). Now the control plane answers `unavailable` for a store it cannot reach,
 * and the agent retries until the database is back: the task ends as it ran, its log whole. The outage is the
 * real error the Postgres driver throws for a refused connection, raised by the store's first writes.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runAgent } from "../../../src/agent";
import { AgentTokens } from "../../../src/auth/agent-token";
import { parseDagSpec } from "../../../src/domain/schemas";
import { silentLogger } from "../../../src/observability/logger";
import { buildDagRun } from "../../../src/scheduler";
import { isStoreUnavailable, openStore, type Store } from "../../../src/store";
import { serveAgentRpc } from "../../support/agent-rpc-server";
import { refusedConnectionError } from "../../support/db-refusal";

const dir = mkdtempSync(join(tmpdir(), "leoflow-store-outage-"));
const rawDag = { dag_id: "outage", tasks: [{ task_id: "t", operator: "bash", bash_command: "echo one; echo two" }] };
const tokens = new AgentTokens("integration-test-secret-32-bytes");
let store: Store;
let rpc: { url: string; stop(): void };
/** The store's writes of a try's end and lines fail while this is above zero, each with the driver's refusal. */
let outageWrites = 0;
let refusal: Error;
const attempts = { finishTry: 0, appendTryLogs: 0 };

beforeAll(async () => {
  // What the Postgres store throws when its server is down: a real refused connection from the driver.
  refusal = await refusedConnectionError();
  writeFileSync(join(dir, "dag.json"), JSON.stringify(rawDag));
  const real = openStore("sqlite::memory:");
  await real.migrate();
  store = new Proxy(real, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if ((prop === "finishTry" || prop === "appendTryLogs") && typeof value === "function")
        return async (...args: unknown[]) => {
          attempts[prop]++;
          if (outageWrites > 0) {
            outageWrites--;
            throw refusal;
          }
          return value.apply(target, args);
        };
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const dag = await store.upsertDag("default", {
    spec: parseDagSpec(rawDag),
    fileloc: join(dir, "dag.json"),
    pausedOnCreate: false,
    now: new Date(),
  });
  await store.createDagRun(buildDagRun(dag, { run_type: "manual", run_id: "r1", logical_date: null }, new Date()));
  rpc = serveAgentRpc(store, tokens);
});

afterAll(async () => {
  rpc?.stop();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("the driver's refused connection is a store outage; a refusal of the request is not", () => {
  expect(isStoreUnavailable(refusal)).toBe(true);
  expect(isStoreUnavailable(new Error("duplicate key"))).toBe(false);
});

test("a task that ends while the database is unreachable is recorded as it ended once it is back, its log whole", async () => {
  const t = (await store.getTaskInstance("default", "outage", "r1", "t"))!;
  await store.applyTransitions([{ id: t.id, from: ["none"], to: "scheduled" }], new Date());
  await store.applyTransitions([{ id: t.id, from: ["scheduled"], to: "queued", patch: { queued_at: new Date() } }], new Date());
  const token = await tokens.issue({ tiId: t.id, tryNumber: 1, dagId: "outage", runId: "r1", taskId: "t" }, 300);
  outageWrites = 2; // the end's first two writes meet the outage; the third finds the database back
  const code = await runAgent({ server: rpc.url, token, logger: silentLogger, hostname: "it-host" });
  expect(code).toBe(0);
  const ti = (await store.getTaskInstance("default", "outage", "r1", "t"))!;
  expect(ti.state).toBe("success");
  expect(attempts.finishTry + attempts.appendTryLogs).toBeGreaterThanOrEqual(3);
  const lines = (await store.readLogs(t.id, 1)).map((l) => l.line);
  expect(lines.filter((l) => l === "one" || l === "two")).toEqual(["one", "two"]);
  expect(lines.at(-1)).toStartWith("exit code 0 after ");
}, 60_000);
