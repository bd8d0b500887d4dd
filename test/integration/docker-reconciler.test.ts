/**
 * DockerExecutor.cancel and the reconciler's start-up cleanup, in-process against a real engine and a real
 * SQLite store. The agent in these containers points at a control plane that does not answer, so it keeps
 * retrying (and the container keeps running) until the test acts on it. Skips locally without an engine.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { openStore, type Store } from "../../src/store";
import type { TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { buildDagRun } from "../../src/scheduler/trigger";
import { silentLogger } from "../../src/observability";
import { DockerExecutor, DockerReconciler, type DockerClient, type DockerSettings } from "../../src/executors/docker";
import { ensureTestImage, testEngine } from "../support/docker";

const engine = await testEngine();
const T = 60_000;

describe.skipIf(!engine)("docker executor cancel and reconciler start-up (real engine)", () => {
  const client = engine as DockerClient;
  const instance = `test-${process.pid}-${Date.now()}`;
  let store: Store;
  let settings: DockerSettings;
  let executor: DockerExecutor;
  let tis: TaskInstanceRecord[];

  beforeAll(async () => {
    settings = {
      host: client.host,
      defaultImage: await ensureTestImage(client),
      network: "host",
      defaultCpu: "500m",
      defaultMemory: "128Mi",
      pullPolicy: "never",
      user: "65534:65534",
      agentBinary: resolve(process.env.LEOFLOW_TEST_BINARY ?? resolve(import.meta.dir, "../../dist/leoflow")),
      pidsLimit: 64,
      instance,
    };
    executor = new DockerExecutor({ client, settings, logger: silentLogger, stopTimeoutSeconds: 1 });
    store = openStore("sqlite::memory:");
    await store.migrate();
    const spec = parseDagSpec({
      dag_id: "dk_cancel",
      tasks: [
        { task_id: "a", operator: "bash", bash_command: "sleep 60" },
        { task_id: "b", operator: "bash", bash_command: "sleep 60" },
      ],
    });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/x.json", pausedOnCreate: false, now: new Date() });
    const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, new Date()));
    tis = (await store.listTaskInstances("default", "dk_cancel", run.run_id)).items;
    for (const ti of tis)
      await executor.execute({
        taskInstanceId: ti.id,
        team: "default",
        dagId: ti.dag_id,
        runId: ti.run_id,
        taskId: ti.task_id,
        tryNumber: ti.try_number,
        task: spec.tasks.find((t) => t.task_id === ti.task_id)!,
        dagFile: "",
        controlPlaneUrl: "http://127.0.0.1:1",
        agentToken: "unused",
      });
  }, T);

  afterAll(async () => {
    for (const c of await client.listContainers([`io.leoflow.instance=${instance}`])) await client.removeContainer(c.Id, true);
    await store?.close();
  });

  const containersOf = async (tiId: number) => client.listContainers([`io.leoflow.instance=${instance}`, `io.leoflow.ti_id=${tiId}`]);

  test(
    "cancel stops the try's container",
    async () => {
      const a = tis.find((t) => t.task_id === "a")!;
      expect((await containersOf(a.id)).map((c) => c.State)).toEqual(["running"]);
      await executor.cancel(a.id, a.try_number);
      expect((await containersOf(a.id)).map((c) => c.State)).toEqual(["exited"]);
    },
    T,
  );

  test(
    "at start-up the containers of tries that are not live are removed; live ones are kept",
    async () => {
      const [a, b] = [tis.find((t) => t.task_id === "a")!, tis.find((t) => t.task_id === "b")!];
      // b's try is live (queued); a's never left state none, like a try that was cleared.
      const now = new Date();
      await store.applyTransitions([{ id: b.id, from: ["none"], to: "scheduled" }], now);
      await store.applyTransitions([{ id: b.id, from: ["scheduled"], to: "queued", patch: { queued_at: now } }], now);
      const reconciler = new DockerReconciler({ client, store, logger: silentLogger, instance, graceMs: 60_000, stagingTtlMs: 0 });
      const report = await reconciler.reconcile(new Date(), { startup: true });
      expect(report).toEqual({ failed: 0, removed: 1, volumesRemoved: 0 });
      expect(await containersOf(a.id)).toEqual([]);
      expect((await containersOf(b.id)).map((c) => c.State)).toEqual(["running"]);
    },
    T,
  );
});
