/**
 * KubernetesExecutor.cancel, one try at a time, and the KubernetesReconciler, in-process against a real API
 * server (KUBECONFIG) or the API-server double with its podman kubelet, and a real SQLite store. Agents in
 * these pods point at a control plane that does not answer (so they keep retrying and their pod keeps
 * running until the test acts) or at one that refuses them (so the agent exits 2 without reporting).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openStore, type Store } from "../../src/store";
import type { DagSpec, TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { buildDagRun } from "../../src/scheduler/trigger";
import { silentLogger } from "../../src/observability";
import { KubernetesExecutor, KubernetesReconciler, podName, type KubernetesSettings } from "../../src/executors/kubernetes";
import type { KubeClient } from "../../src/executors/kubernetes/client";
import { waitFor } from "../e2e/harness";
import { kubeTarget, type KubeTarget } from "./kubernetes-target";

const target = await kubeTarget();
const T = 90_000;

describe.skipIf(!target)("kubernetes executor and reconciler (in-process)", () => {
  const kt = target as KubeTarget;
  const instance = `t${Date.now().toString(16).slice(-11)}`;
  let kube: KubeClient;
  let store: Store;
  let spec: DagSpec;
  let settings: KubernetesSettings;
  let executor: KubernetesExecutor;
  let reconciler: KubernetesReconciler;
  let tis: Record<string, TaskInstanceRecord>;
  // A control plane that refuses every agent: the agent gives up at once (exit 2) without reporting.
  const refusing = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => Response.json({ code: "permission_denied", message: "not you" }, { status: 403 }),
  });

  const launch = (ti: TaskInstanceRecord, tryNumber = ti.try_number, controlPlaneUrl = "http://127.0.0.1:1") =>
    executor.execute({
      taskInstanceId: ti.id,
      team: ti.team,
      dagId: ti.dag_id,
      runId: ti.run_id,
      taskId: ti.task_id,
      tryNumber,
      task: spec.tasks.find((t) => t.task_id === ti.task_id)!,
      dagFile: "",
      controlPlaneUrl,
      agentToken: "unused-token",
    });
  const nameOf = (ti: TaskInstanceRecord, tryNumber = ti.try_number) =>
    podName({ dagId: ti.dag_id, taskId: ti.task_id, taskInstanceId: ti.id, tryNumber }, instance);
  const gone = async (name: string) => (await kube.readPod(name)) === null;
  const queue = async (ti: TaskInstanceRecord) => {
    const now = new Date();
    await store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], now);
    await store.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "queued", patch: { queued_at: now } }], now);
  };

  beforeAll(async () => {
    const { KubeClient } = await import("../../src/executors/kubernetes/client");
    kube = KubeClient.fromConfig({ kubeconfig: kt.kubeconfig, namespace: kt.namespace, timeoutMs: 10_000 });
    settings = {
      namespace: kube.namespace,
      agentImage: kt.agentImage,
      agentImageBinary: "/usr/local/bin/leoflow",
      defaultImage: kt.taskImage,
      defaultCpu: "500m",
      defaultMemory: "128Mi",
      pullPolicy: kt.pullPolicy,
      serviceAccount: "",
      automountServiceAccountToken: false,
      nodeSelector: {},
      tolerations: [],
      runAsUser: 65534,
      runAsGroup: 65534,
      podGraceSeconds: 1,
      taskSecret: "",
      caConfigMap: "",
      stagingStorageClass: "",
      stagingSize: "64Mi",
      instance,
    };
    executor = new KubernetesExecutor({ kube, settings, logger: silentLogger });
    store = openStore("sqlite::memory:");
    await store.migrate();
    spec = parseDagSpec({
      dag_id: "k8s_inproc",
      tasks: ["cancelled", "retried", "refused", "stale", "live"].map((task_id) => ({
        task_id,
        operator: "bash",
        bash_command: "sleep 60",
      })),
    });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/x.json", pausedOnCreate: false, now: new Date() });
    const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, new Date()));
    tis = Object.fromEntries((await store.listTaskInstances("default", "k8s_inproc", run.run_id)).items.map((t) => [t.task_id, t]));
    reconciler = new KubernetesReconciler({
      kube,
      store,
      logger: silentLogger,
      instance,
      deletePod: (n, ns) => executor.deletePodAndSecret(n, ns),
      graceMs: 60_000,
      pendingLimitMs: 60_000,
    });
  }, T);

  afterAll(async () => {
    await reconciler?.stop();
    for (const p of (await kube.listPods(`leoflow.io/instance=${instance}`)).pods) await executor.deletePodAndSecret(p.metadata!.name!);
    // Let the kubelet finish with them before the double stops (a container starting then would outlive it).
    await waitFor(
      async () => (await kube.listPods(`leoflow.io/instance=${instance}`)).pods.length === 0,
      30_000,
      () => "pods left",
    ).catch(() => {});
    refusing.stop(true);
    await store?.close();
    await kt?.stop();
  });

  test(
    "cancel deletes the try's pod and its token secret",
    async () => {
      const ti = tis.cancelled!;
      await launch(ti);
      const name = nameOf(ti);
      await waitFor(
        async () => (await kube.readPod(name))?.status?.phase === "Running",
        T,
        () => `pod ${name} never ran`,
      );
      await executor.cancel(ti.id, ti.try_number);
      await waitFor(
        () => gone(name),
        T,
        () => `pod ${name} is still there after cancel`,
      );
      expect((await kube.listSecrets(`leoflow.io/instance=${instance},leoflow.io/ti-id=${ti.id}`)).length).toBe(0);
    },
    T,
  );

  test(
    "before try 2 starts, the pod of try 1 is deleted",
    async () => {
      const ti = tis.retried!;
      await launch(ti, 1);
      await waitFor(
        async () => (await kube.readPod(nameOf(ti, 1))) !== null,
        T,
        () => "try 1 has no pod",
      );
      await launch(ti, 2);
      await waitFor(
        () => gone(nameOf(ti, 1)),
        T,
        () => "the pod of try 1 survived try 2's launch",
      );
      expect((await kube.readPod(nameOf(ti, 2)))?.metadata?.labels?.["leoflow.io/try-number"]).toBe("2");
    },
    T,
  );

  test.skipIf(kt?.kind !== "double")(
    "a pod that ends while its try is live fails the task instance with the reason and the pod's last log lines",
    async () => {
      const ti = tis.refused!;
      await queue(ti);
      reconciler.start(60_000); // the watch, not the resync, must see the pod end
      await launch(ti, ti.try_number, `http://127.0.0.1:${refusing.port}`);
      const failed = await waitFor(
        async () => {
          const t = await store.getTaskInstanceById(ti.id);
          return t?.state === "failed" ? t : null;
        },
        T,
        () => "the task instance was not failed",
      );
      expect(failed.note).toBe(`pod ${nameOf(ti)}: container task exited with code 2 before the agent reported a final state`);
      const lines = (await store.readLogs(ti.id, ti.try_number)).map((l) => `${l.stream}: ${l.line}`);
      expect(lines[0]).toMatch(
        new RegExp(
          `^executor: pod ${nameOf(ti)}: container task exited with code 2 before the agent reported a final state; the last \\d+ log lines of container task follow$`,
        ),
      );
      expect(lines.join("\n")).toContain("permission_denied");
      await reconciler.stop();
    },
    T,
  );

  test(
    "at start-up, pods of tries that are not live are deleted; a live try's pod is kept",
    async () => {
      const [stale, live] = [tis.stale!, tis.live!];
      await queue(live);
      await launch(stale);
      await launch(live);
      await waitFor(
        async () => (await kube.readPod(nameOf(stale))) !== null && (await kube.readPod(nameOf(live))) !== null,
        T,
        () => "pods not created",
      );
      const fresh = new KubernetesReconciler({
        kube,
        store,
        logger: silentLogger,
        instance,
        deletePod: (n, ns) => executor.deletePodAndSecret(n, ns),
        graceMs: 60_000,
        pendingLimitMs: 60_000,
      });
      const report = await fresh.resync({ startup: true });
      expect(report.deleted).toBeGreaterThanOrEqual(1);
      await waitFor(
        () => gone(nameOf(stale)),
        T,
        () => "the pod of a try that is not live survived start-up",
      );
      expect((await kube.readPod(nameOf(live)))?.metadata?.deletionTimestamp).toBeUndefined();
    },
    T,
  );
});
