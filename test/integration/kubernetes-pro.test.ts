/**
 * Pro on Kubernetes end to end: two real replicas (`serve --mode=pro --executor=kubernetes`) on one Postgres
 * schema, behind the load balancer agents report through (test/support/pro-cluster.ts), running task pods on
 * a real API server (KUBECONFIG) or the API-server double and its podman kubelet. A DAG of three tasks passes
 * XCom along and shares the run's staging PVC; the leader is SIGKILLed while the middle task's pod runs. The
 * survivor takes over, the run succeeds, every task ran exactly once per try the API reports (a pod watch
 * sees every pod the executor created; each try appends a line to the staging volume), and the staging PVC
 * is reclaimed, as the store's staging_volumes record says with why.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import type { V1Pod } from "@kubernetes/client-node";
import { waitFor, waitForRun, type Leoflow } from "../e2e/harness";
import { describePg, pgUrl } from "../support/postgres";
import { ProCluster } from "../support/pro-cluster";
import type { KubeClient } from "../../src/executors/kubernetes/client";
import { kubeTarget, type KubeTarget } from "./kubernetes-target";

const target = await kubeTarget();
const T = 180_000;
const DAG = "k8s_pro";
const RUN = "pro-1";
const TASKS = ["extract", "transform", "load"];

/** Each try appends "<task> <try>" to the run's staging volume; the last task prints the whole file. */
const mark = 'echo "$LEOFLOW_TASK_ID $LEOFLOW_TRY_NUMBER" >> /staging/executed.txt';
const DAG_SPEC = {
  dag_id: DAG,
  schedule: null,
  staging: { enabled: true, size: "64Mi" },
  default_args: { retries: 1, retry_delay: 0 },
  tasks: [
    { task_id: "extract", operator: "bash", bash_command: `${mark}; echo '{"rows": 42}' > "$LEOFLOW_RETURN_VALUE_PATH"` },
    {
      task_id: "transform",
      operator: "bash",
      upstream: ["extract"],
      // Long enough for the leader to be killed and another replica to take over while this pod runs.
      bash_command: `${mark}; echo "transform got $LEOFLOW_XCOM_EXTRACT"; sleep 8; echo '{"rows": 43}' > "$LEOFLOW_RETURN_VALUE_PATH"`,
    },
    {
      task_id: "load",
      operator: "bash",
      upstream: ["transform"],
      bash_command: `${mark}; echo "load got $LEOFLOW_XCOM_TRANSFORM"; cat /staging/executed.txt`,
    },
  ],
};

/** Every pod with the instance's label the API server ever had during the test, by name: a watch, resumed when the server ends it. */
async function watchAllPods(kube: KubeClient, selector: string) {
  const seen = new Map<string, V1Pod>();
  let stopped = false;
  let current: { stop(): void } | null = null;
  const follow = async (): Promise<void> => {
    const { pods, resourceVersion } = await kube.listPods(selector);
    for (const p of pods) seen.set(p.metadata!.name!, p);
    let rv = resourceVersion;
    current = await kube.watchPods(
      selector,
      rv,
      (e) => {
        if (e.type === "ERROR") return;
        rv = e.pod.metadata?.resourceVersion ?? rv;
        if (e.type === "ADDED" || !seen.has(e.pod.metadata!.name!)) seen.set(e.pod.metadata!.name!, e.pod);
      },
      () => {
        if (!stopped) void follow();
      },
    );
  };
  await follow();
  return {
    seen,
    stop: () => {
      stopped = true;
      current?.stop();
    },
  };
}

describePg("Pro on Kubernetes: two replicas, leader killed while a task pod runs", () => {
  if (!target) {
    test.skip("no Kubernetes target (see test/integration/kubernetes-target.ts)", () => {});
    return;
  }
  const kt = target as KubeTarget;
  const dir = mkdtempSync(join(tmpdir(), "leoflow-k8s-pro-"));
  const cluster = new ProCluster({
    dir,
    names: ["r1", "r2"],
    args: [
      // After ProCluster's --executor=subprocess: the last one given wins.
      "--executor=kubernetes",
      `--kubeconfig=${kt.kubeconfig}`,
      `--namespace=${kt.namespace}`,
      `--k8s-agent-image=${kt.agentImage}`,
      `--k8s-default-image=${kt.taskImage}`,
      `--k8s-image-pull-policy=${kt.pullPolicy}`,
      `--k8s-allowed-images=${kt.taskImage.split("/")[0]}/*,localhost/*`,
      "--k8s-remove-grace=1",
      "--k8s-pod-grace=1",
      "--dispatch-retries=1",
      "--dispatch-lost-after=20",
      ...(kt.advertiseUrl ? [`--advertise-url=${kt.advertiseUrl}`, "--host=0.0.0.0"] : []),
    ],
  });
  let kube: KubeClient;
  let instance = "";
  let pods: Awaited<ReturnType<typeof watchAllPods>>;

  beforeAll(async () => {
    const dags = join(dir, "dags");
    mkdirSync(dags);
    writeFileSync(join(dags, "pro.json"), JSON.stringify(DAG_SPEC));
    await cluster.start(dags);
    // Both replicas share one store, hence one instance id (a digest of the store's URL and creation time).
    const ids = await Promise.all(
      cluster.replicas.map((r) =>
        waitFor(
          () => /kubernetes executor ready.*instance=([0-9a-f]{12})/.exec(r.output())?.[1],
          20_000,
          () => `no instance in the log:\n${r.output()}`,
        ),
      ),
    );
    expect(new Set(ids).size).toBe(1);
    instance = ids[0]!;
    const { KubeClient } = await import("../../src/executors/kubernetes/client");
    kube = KubeClient.fromConfig({ kubeconfig: kt.kubeconfig, namespace: kt.namespace, timeoutMs: 10_000 });
    pods = await watchAllPods(kube, `leoflow.io/instance=${instance}`);
  }, T);

  afterAll(async () => {
    pods?.stop();
    await cluster.stop();
    await kt.stop();
  });

  test(
    "the survivor takes over; the run succeeds with XCom and staging; every try ran once; the staging PVC is reclaimed",
    async () => {
      const [leader, follower] = cluster.replicas as [Leoflow, Leoflow];
      const res = await follower.api("POST", `/api/v2/dags/${DAG}/dagRuns`, { dag_run_id: RUN, logical_date: null });
      expect(res.status).toBe(200);

      // Kill the leader once the middle task's pod runs (its agent reports through the load balancer).
      const running = await waitFor(
        async () =>
          (await kube.listPods(`leoflow.io/instance=${instance},leoflow.io/task-id=transform`)).pods.find(
            (p) => p.status?.phase === "Running",
          ),
        T,
        () => `the transform pod never ran:\n${leader.output().slice(-3000)}`,
      );
      const killedAt = performance.now();
      leader.proc.kill("SIGKILL");
      await leader.proc.exited;
      cluster.alive.delete(leader.url);
      await waitFor(
        () => follower.output().includes("became scheduler leader"),
        30_000,
        () => `the survivor never led:\n${follower.output().slice(-3000)}`,
      );
      const takeoverMs = Math.round(performance.now() - killedAt);
      expect((await kube.readPod(running.metadata!.name!))?.status?.phase).toBe("Running"); // killed mid-task

      const run = await waitForRun(follower, DAG, RUN, T);
      expect(run.state).toBe("success");

      // XCom went from task to task, and every try appended its line to the staging volume exactly once.
      const tis = (await follower.api("GET", `/api/v2/dags/${DAG}/dagRuns/${RUN}/taskInstances`)).body.task_instances as any[];
      expect(tis.map((t) => [t.task_id, t.state]).sort()).toEqual(TASKS.map((t) => [t, "success"]).sort());
      const tries = tis.flatMap((t) => Array.from({ length: t.try_number }, (_, i) => `${t.task_id} ${i + 1}`)).sort();
      const loadTry = tis.find((t) => t.task_id === "load")!.try_number;
      const log = await follower.api("GET", `/api/v2/dags/${DAG}/dagRuns/${RUN}/taskInstances/load/logs/${loadTry}`);
      const lines = (log.body.content as { event: string }[]).map((l) => l.event);
      expect(lines).toContain('load got {"rows":43}');
      const transformTry = tis.find((t) => t.task_id === "transform")!.try_number;
      const tlog = await follower.api("GET", `/api/v2/dags/${DAG}/dagRuns/${RUN}/taskInstances/transform/logs/${transformTry}`);
      expect((tlog.body.content as { event: string }[]).map((l) => l.event)).toContain('transform got {"rows":42}');
      expect(lines.filter((l) => /^(extract|transform|load) \d+$/.test(l)).sort()).toEqual(tries);

      // The pods the API server ever had: one per try the API reports, no more.
      const podTries = [...pods.seen.values()]
        .map((p) => `${p.metadata!.labels!["leoflow.io/task-id"]} ${p.metadata!.labels!["leoflow.io/try-number"]}`)
        .sort();
      expect(podTries).toEqual(tries);

      // The staging PVC is reclaimed after success, and the store recorded it and why.
      await waitFor(
        async () => (await kube.listPvcs(`leoflow.io/instance=${instance}`)).length === 0,
        T,
        () => "the staging PVC of the successful run was not reclaimed",
      );
      const sql = postgres(pgUrl(), { max: 1, onnotice: () => {} });
      try {
        const records = await sql.unsafe(
          `SELECT executor, dag_id, run_id, deleted_at IS NOT NULL AS deleted, delete_reason FROM "${cluster.schema}".staging_volumes`,
        );
        expect(Array.from(records, (r): Record<string, unknown> => ({ ...r }))).toEqual([
          { executor: "kubernetes", dag_id: DAG, run_id: RUN, deleted: true, delete_reason: "its run succeeded" },
        ]);
      } finally {
        await sql.end({ timeout: 1 });
      }

      // Queued → running per task, as the API reports it (the double's kubelet starts podman containers).
      const timing = TASKS.map((id) => {
        const t = tis.find((x) => x.task_id === id)!;
        return `${id} (try ${t.try_number}): ${new Date(t.start_date).getTime() - new Date(t.queued_when).getTime()} ms`;
      });
      console.log(
        `kubernetes pro: takeover ${takeoverMs} ms after SIGKILL of the leader; queued → running: ${timing.join(", ")} (${kt.kind})`,
      );
    },
    T,
  );
});
