/**
 * The DAG file a launch names (the agent imports it for ts tasks, python callables run beside it): read from the
 * store, reused for DAG_FILE_CACHE_MS, then read again, so a DAG whose file moved (renamed, or its folder checked out
 * at another path) is launched with its new file, not the old one for as long as the server runs. Doubles only.
 */
import { expect, test } from "bun:test";
import type { DagRecord, DagRunRecord, TaskInstanceRecord } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { AgentTokens, signingKeys } from "../../../src/auth";
import { Router, type Executor, type ExecutorRequest } from "../../../src/executors";
import { DAG_FILE_CACHE_MS, Dispatcher } from "../../../src/dispatch";

class RecordingExecutorDouble implements Executor {
  readonly name = "subprocess";
  readonly launched: ExecutorRequest[] = [];
  async execute(req: ExecutorRequest): Promise<void> {
    this.launched.push(req);
  }
}

test("a DAG whose file moved is launched with the new file once the cached one is older than DAG_FILE_CACHE_MS", async () => {
  const spec = parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "a", operator: "bash", bash_command: "true" }] });
  const run = { id: 1, version_id: 1 } as DagRunRecord;
  const ti = { id: 7, team: "default", dag_id: "etl", run_id: "r", task_id: "a", try_number: 1, dag_run_id: 1 } as TaskInstanceRecord;
  let fileloc = "/srv/old/dags/etl.py";
  let reads = 0;
  let now = 0;
  const executor = new RecordingExecutorDouble();
  const dispatcher = new Dispatcher({
    store: { getDag: async () => (reads++, { fileloc } as DagRecord) },
    router: new Router(executor),
    tokens: new AgentTokens(signingKeys("a-test-secret-of-at-least-32-bytes!!")),
    controlPlaneUrl: "http://127.0.0.1:1",
    tokenTtl: { ceilingSeconds: 3600, queueWaitSeconds: 60, graceSeconds: 60 },
    now: () => now,
  });
  await dispatcher.dispatch(ti, run, spec);
  fileloc = "/srv/dags/etl.py"; // the folder's new checkout, synced
  now = DAG_FILE_CACHE_MS - 1;
  await dispatcher.dispatch(ti, run, spec); // a burst of launches reads the store once
  now = DAG_FILE_CACHE_MS;
  await dispatcher.dispatch(ti, run, spec);
  expect(executor.launched.map((r) => r.dagFile)).toEqual(["/srv/old/dags/etl.py", "/srv/old/dags/etl.py", "/srv/dags/etl.py"]);
  expect(reads).toBe(2);
});
