/**
 * A team's kubernetes_namespace, in-process against a real API server (KUBECONFIG) or the API-server double
 * with its podman kubelet: the dispatcher launches the team's try with its pod and token Secret in the team's
 * namespace (not the executor's), the reconciler's resync finds the pod there when it ends without reporting
 * and fails the try, and cancel finds it there too. The default team's try stays in the executor's namespace.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { openStore, type Store } from "../../src/store";
import { DEFAULT_TEAM, type DagRunRecord, type DagSpec, type TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { buildDagRun } from "../../src/scheduler/trigger";
import { silentLogger } from "../../src/observability";
import { AgentTokens, signingKeys } from "../../src/auth";
import { Router } from "../../src/executors";
import { KubernetesExecutor, KubernetesReconciler, podName } from "../../src/executors/kubernetes";
import type { KubeClient } from "../../src/executors/kubernetes/client";
import { Dispatcher, TeamPolicies } from "../../src/dispatch";
import { waitFor } from "../e2e/harness";
import { kubeTarget, type KubeTarget } from "./kubernetes-target";

const target = await kubeTarget();
const T = 90_000;

describe.skipIf(!target)("a team's Kubernetes namespace (in-process)", () => {
  const kt = target as KubeTarget;
  const instance = `n${Date.now().toString(16).slice(-11)}`;
  const teamNamespace = `leoflow-team-${instance}`;
  let kube: KubeClient;
  let store: Store;
  let executor: KubernetesExecutor;
  let reconciler: KubernetesReconciler;
  let dispatcher: Dispatcher;
  let spec: DagSpec;
  const runs: Record<string, DagRunRecord> = {};
  // A control plane that refuses every agent: the agent exits 2 at once without reporting.
  const refusing = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => Response.json({ code: "permission_denied", message: "not you" }, { status: 403 }),
  });
  const ti = async (team: string) => (await store.listTaskInstances(team, "k8s_team", runs[team]!.run_id)).items[0] as TaskInstanceRecord;
  const nameOf = (t: TaskInstanceRecord) =>
    podName({ dagId: t.dag_id, taskId: t.task_id, taskInstanceId: t.id, tryNumber: t.try_number }, instance);
  const queue = async (t: TaskInstanceRecord) => {
    const now = new Date();
    await store.applyTransitions([{ id: t.id, from: ["none"], to: "scheduled" }], now);
    await store.applyTransitions([{ id: t.id, from: ["scheduled"], to: "queued", patch: { queued_at: now } }], now);
  };

  beforeAll(async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kt.kubeconfig);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: teamNamespace } } });
    const { KubeClient } = await import("../../src/executors/kubernetes/client");
    kube = KubeClient.fromConfig({ kubeconfig: kt.kubeconfig, namespace: kt.namespace, timeoutMs: 10_000 });
    executor = new KubernetesExecutor({
      kube,
      settings: {
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
      },
      logger: silentLogger,
      extraNamespaces: async () => [teamNamespace],
    });
    store = openStore("sqlite::memory:");
    await store.migrate();
    await store.createTeam(
      {
        name: "data-eng",
        description: null,
        max_running_tasks: null,
        max_pool_slots: null,
        max_inline_requests: null,
        executor_policy: { kubernetes_namespace: teamNamespace },
      },
      new Date(),
    );
    spec = parseDagSpec({ dag_id: "k8s_team", tasks: [{ task_id: "t", operator: "bash", bash_command: "sleep 60" }] });
    for (const team of ["data-eng", DEFAULT_TEAM]) {
      const dag = await store.upsertDag(team, { spec, fileloc: "/dags/x.json", pausedOnCreate: false, now: new Date() });
      runs[team] = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, new Date()));
    }
    const policies = new TeamPolicies({ source: store, ttlMs: 5000, logger: silentLogger });
    dispatcher = new Dispatcher({
      store,
      router: new Router(executor),
      tokens: new AgentTokens(signingKeys("a-test-secret-of-at-least-32-bytes!!")),
      controlPlaneUrl: `http://127.0.0.1:${refusing.port}`,
      tokenTtl: { ceilingSeconds: 3600, queueWaitSeconds: 60, graceSeconds: 60 },
      policies,
    });
    reconciler = new KubernetesReconciler({
      kube,
      store,
      logger: silentLogger,
      instance,
      deletePod: (n, ns) => executor.deletePodAndSecret(n, ns),
      graceMs: 60_000,
      pendingLimitMs: 60_000,
      extraNamespaces: async () => (await policies.all()).flatMap((t) => t.executor_policy.kubernetes_namespace ?? []),
    });
  }, T);

  afterAll(async () => {
    await reconciler?.stop();
    for (const ns of [kube.namespace, teamNamespace]) {
      const k = kube.inNamespace(ns);
      for (const p of (await k.listPods(`leoflow.io/instance=${instance}`).catch(() => ({ pods: [] }))).pods)
        await executor.deletePodAndSecret(p.metadata?.name ?? "", ns);
    }
    await waitFor(
      async () => (await kube.inNamespace(teamNamespace).listPods(`leoflow.io/instance=${instance}`)).pods.length === 0,
      30_000,
      () => "pods left",
    ).catch(() => {});
    refusing.stop(true);
    await store?.close();
    await kt?.stop();
  });

  test(
    "the team's pod and Secret go to its namespace; the default team's to the executor's",
    async () => {
      const teamTi = await ti("data-eng");
      const defaultTi = await ti(DEFAULT_TEAM);
      await queue(defaultTi);
      await dispatcher.dispatch(defaultTi, runs[DEFAULT_TEAM]!, spec);
      const inTeam = kube.inNamespace(teamNamespace);
      expect((await kube.readPod(nameOf(defaultTi)))?.metadata?.namespace).toBe(kube.namespace);
      expect(await inTeam.readPod(nameOf(defaultTi))).toBeNull();
      await executor.cancel(defaultTi.id, defaultTi.try_number);

      await queue(teamTi);
      await dispatcher.dispatch(teamTi, runs["data-eng"]!, spec);
      const pod = await inTeam.readPod(nameOf(teamTi));
      expect(pod?.metadata?.namespace).toBe(teamNamespace);
      expect(await kube.readPod(nameOf(teamTi))).toBeNull();
      expect((await inTeam.listSecrets(`leoflow.io/ti-id=${teamTi.id}`)).map((s) => s.metadata?.name)).toEqual([nameOf(teamTi)]);
    },
    T,
  );

  test.skipIf(kt?.kind !== "double")(
    "the resync finds the team's pod that ended without reporting and fails the try; cancel finds it there",
    async () => {
      const teamTi = await ti("data-eng");
      const failed = await waitFor(
        async () => {
          await reconciler.resync();
          const t = await store.getTaskInstanceById(teamTi.id);
          return t?.state === "failed" ? t : null;
        },
        T,
        () => "the team's task instance was not failed by the reconciler",
      );
      expect(failed.note).toBe(`pod ${nameOf(teamTi)}: container task exited with code 2 before the agent reported a final state`);
      await executor.cancel(teamTi.id, teamTi.try_number);
      await waitFor(
        async () => (await kube.inNamespace(teamNamespace).readPod(nameOf(teamTi))) === null,
        T,
        () => "cancel did not delete the pod in the team's namespace",
      );
    },
    T,
  );
});
