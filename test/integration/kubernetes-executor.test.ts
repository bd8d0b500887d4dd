/**
 * The Kubernetes executor end to end: the compiled binary serves with --executor=kubernetes against a real
 * API server (KUBECONFIG) or the API-server double, whose podman kubelet runs each pod's init container
 * (copying the agent out of the Leoflow image) and task container for real. Checked over HTTP and on the
 * API server: XCom, logs, a staging PVC, exit codes, a killed agent and a missing image caught by the
 * reconciler, the allowlist at DAG load, a forbidden API, and nothing left behind.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLeoflow, waitFor, waitForRun, type Leoflow } from "../e2e/harness";
import { testEngine } from "../support/docker";
import type { KubeClient } from "../../src/executors/kubernetes/client";
import { kubeTarget, type KubeTarget } from "./kubernetes-target";

const target = await kubeTarget();
const T = 120_000;

function dag(dagId: string, tasks: object[], extra: object = {}): object {
  return { dag_id: dagId, default_args: { env: { GREETING: "hello from the task env" } }, tasks, ...extra };
}

const DAGS: Record<string, object> = {
  "pipeline.json": dag(
    "k8s_pipeline",
    [
      {
        task_id: "extract",
        operator: "bash",
        bash_command: [
          'echo "running as uid $(id -u)"',
          "touch /should-fail 2>/dev/null && echo 'root fs writable' || echo 'root fs is read-only'",
          'echo staged-bytes > "$LEOFLOW_STAGING_DIR/part-0"',
          'echo \'{"rows": 42}\' > "$LEOFLOW_RETURN_VALUE_PATH"',
        ].join("; "),
      },
      {
        task_id: "load",
        operator: "bash",
        upstream: ["extract"],
        bash_command: 'echo "got $LEOFLOW_XCOM_EXTRACT"; echo "$GREETING"; cat /staging/part-0; echo err-line >&2',
      },
    ],
    { staging: { enabled: true, size: "64Mi" } },
  ),
  // Fails on its first run, leaving a marker in the run's staging PVC; a clear + re-run finds it and succeeds.
  "staging-clear.json": dag(
    "k8s_staging_clear",
    [
      {
        task_id: "t",
        operator: "bash",
        bash_command:
          'if [ -f /staging/marker ]; then echo "found $(cat /staging/marker)"; else echo first-run > /staging/marker; exit 1; fi',
      },
    ],
    { staging: { enabled: true } },
  ),
  "exit3.json": dag("k8s_exit3", [{ task_id: "fails", operator: "bash", bash_command: "echo about to fail; exit 3" }]),
  "sleeper.json": dag("k8s_sleeper", [{ task_id: "sleeper", operator: "bash", bash_command: "echo sleeping; sleep 300" }]),
  "missing-image.json": dag("k8s_missing_image", [
    { task_id: "t", operator: "bash", bash_command: "true", image: "localhost/leoflow-no-such-image:1" },
  ]),
  "not-allowed.json": dag("k8s_not_allowed", [
    { task_id: "t", operator: "bash", bash_command: "true", image: "docker.io/library/alpine:3" },
  ]),
  "forbidden.json": dag("k8s_forbidden", [{ task_id: "t", operator: "bash", bash_command: "true" }]),
  "leftovers.json": dag("k8s_leftovers", [
    { task_id: "a", operator: "bash", bash_command: "echo a" },
    { task_id: "b", operator: "bash", upstream: ["a"], bash_command: "echo b" },
  ]),
};

describe.skipIf(!target)("kubernetes executor (end to end)", () => {
  const kt = target as KubeTarget;
  let lf: Leoflow;
  let kube: KubeClient;
  let instance = "";

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-k8s-"));
    mkdirSync(join(dir, "dags"));
    for (const [file, body] of Object.entries(DAGS)) writeFileSync(join(dir, "dags", file), JSON.stringify(body));
    lf = await startLeoflow({
      dir,
      args: [
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
        ...(kt.advertiseUrl ? [`--advertise-url=${kt.advertiseUrl}`, "--host=0.0.0.0"] : []),
      ],
    });
    // The server logs its instance id (a digest of its store) once the API server answered.
    instance = await waitFor(
      () => /kubernetes executor ready.*instance=([0-9a-f]{12})/.exec(lf.output())?.[1],
      20_000,
      () => `no instance in the log:\n${lf.output()}`,
    );
    const { KubeClient } = await import("../../src/executors/kubernetes/client");
    kube = KubeClient.fromConfig({ kubeconfig: kt.kubeconfig, namespace: kt.namespace, timeoutMs: 10_000 });
  }, T);

  afterAll(async () => {
    await lf?.stop();
    await kt?.stop();
  });

  const trigger = async (dagId: string, runId: string) => {
    const res = await lf.api("POST", `/api/v2/dags/${dagId}/dagRuns`, { dag_run_id: runId, logical_date: null });
    expect(res.status).toBe(200);
  };
  const ti = async (dagId: string, runId: string, taskId: string) =>
    (await lf.api("GET", `/api/v2/dags/${dagId}/dagRuns/${runId}/taskInstances/${taskId}`)).body;
  const logText = async (dagId: string, runId: string, taskId: string) => {
    const res = await lf.api("GET", `/api/v2/dags/${dagId}/dagRuns/${runId}/taskInstances/${taskId}/logs/1`);
    return (res.body.content as { stream: string; event: string }[]).map((l) => `${l.stream}: ${l.event}`).join("\n");
  };
  const ours = async (extra = "") => (await kube.listPods(`leoflow.io/instance=${instance}${extra}`)).pods;

  test(
    "a task pod runs the agent: XCom, logs, a staging PVC, non-root on a read-only root, the token only in a Secret",
    async () => {
      await trigger("k8s_pipeline", "p1");
      // While it runs, the pods are on the API server, labelled with the try.
      const pod = await waitFor(
        async () => (await ours(",leoflow.io/dag-id=k8s_pipeline"))[0],
        T,
        () => "no pod was created",
      );
      expect(pod.metadata?.labels).toMatchObject({
        "app.kubernetes.io/managed-by": "leoflow",
        "leoflow.io/task-id": "extract",
        "leoflow.io/try-number": "1",
      });
      expect(JSON.stringify(pod.spec)).not.toMatch(/eyJ[\w-]+\.[\w-]+\./); // no JWT in the spec
      expect(pod.spec?.containers[0]?.env?.find((e) => e.name === "LEOFLOW_AGENT_TOKEN")?.valueFrom?.secretKeyRef?.name).toBe(
        pod.metadata?.name,
      );
      const run = await waitForRun(lf, "k8s_pipeline", "p1", T);
      expect(run.state).toBe("success");
      const extract = await logText("k8s_pipeline", "p1", "extract");
      expect(extract).toContain("stdout: running as uid 65534");
      expect(extract).toContain("stdout: root fs is read-only");
      const xcom = await lf.api("GET", "/api/v2/dags/k8s_pipeline/dagRuns/p1/taskInstances/extract/xcomEntries/return_value");
      expect(xcom.body.value).toEqual({ rows: 42 });
      const load = await logText("k8s_pipeline", "p1", "load");
      expect(load).toContain('stdout: got {"rows":42}');
      expect(load).toContain("stdout: hello from the task env");
      expect(load).toContain("stdout: staged-bytes");
      expect(load).toContain("stderr: err-line");
      expect((await ti("k8s_pipeline", "p1", "load")).executor).toBe("kubernetes");
      // The run succeeded: its staging PVC is reclaimed (and the deletion logged with why).
      await waitFor(
        async () => (await kube.listPvcs(`leoflow.io/instance=${instance}`)).length === 0,
        T,
        () => "the staging PVC of a successful run was not reclaimed",
      );
      // The log line follows the API server's answer to the delete: wait for it, not just for the PVC list.
      await waitFor(
        () => lf.output().includes("removed staging volume"),
        T,
        () => "the staging PVC's deletion was not logged",
      );
      expect(lf.output()).toContain('why="its run succeeded"');
    },
    T,
  );

  test(
    "a failed run keeps its staging PVC; a clear + re-run finds the data, then success reclaims it",
    async () => {
      await trigger("k8s_staging_clear", "c1");
      expect((await waitForRun(lf, "k8s_staging_clear", "c1", T)).state).toBe("failed");
      const pvcs = async () =>
        (await kube.listPvcs(`leoflow.io/instance=${instance}`)).filter((p) => p.metadata?.annotations?.["leoflow.io/run-id"] === "c1");
      const [kept] = await pvcs();
      expect(kept?.metadata?.annotations?.["leoflow.io/dag-id"]).toBe("k8s_staging_clear");
      const cleared = await lf.api("POST", "/api/v2/dags/k8s_staging_clear/dagRuns/c1/clear", { dry_run: false });
      expect(cleared.status).toBe(200);
      expect((await waitForRun(lf, "k8s_staging_clear", "c1", T)).state).toBe("success");
      const res = await lf.api("GET", "/api/v2/dags/k8s_staging_clear/dagRuns/c1/taskInstances/t/logs/2");
      expect((res.body.content as { event: string }[]).map((l) => l.event)).toContain("found first-run");
      await waitFor(
        async () => (await pvcs()).length === 0,
        T,
        () => "the staging PVC was not reclaimed after the re-run succeeded",
      );
    },
    T,
  );

  test(
    "a task exiting 3 fails with its exit code in the log",
    async () => {
      await trigger("k8s_exit3", "e1");
      expect((await waitForRun(lf, "k8s_exit3", "e1", T)).state).toBe("failed");
      expect((await ti("k8s_exit3", "e1", "fails")).state).toBe("failed");
      const log = await logText("k8s_exit3", "e1", "fails");
      expect(log).toContain("stdout: about to fail");
      expect(log).toContain("agent: task failed: exit code 3");
    },
    T,
  );

  test.skipIf(kt?.kind !== "double")(
    "a pod whose agent was killed is failed by the reconciler with the reason and its last log lines",
    async () => {
      await trigger("k8s_sleeper", "s1");
      await waitFor(
        // The task's own line, not the agent's "running bash -c \"echo sleeping; …\"" (which also says sleeping): killed
        // before the agent shipped it, the line the assertions below read would never come.
        async () => (await logText("k8s_sleeper", "s1", "sleeper")).includes("stdout: sleeping"),
        T,
        () => "the sleeper never logged",
      );
      const [pod] = await ours(",leoflow.io/dag-id=k8s_sleeper");
      const engine = (await testEngine())!;
      const [container] = await engine.listContainers([
        `io.kubernetes.pod.name=${pod!.metadata!.name}`,
        "io.kubernetes.container.name=task",
      ]);
      await engine.killContainer(container!.Id, "SIGKILL");
      expect((await waitForRun(lf, "k8s_sleeper", "s1", T)).state).toBe("failed");
      const t = await ti("k8s_sleeper", "s1", "sleeper");
      // podman reports a SIGKILLed container as OOM-killed on some hosts (cgroup v1); either way the reason names the pod and 137.
      expect(t.note).toStartWith(`pod ${pod!.metadata!.name}: container task `);
      expect(t.note).toMatch(/exited with code 137: killed by SIGKILL|was OOM-killed \(exit code 137\)/);
      expect(t.note).toEndWith("before the agent reported a final state");
      const log = await logText("k8s_sleeper", "s1", "sleeper");
      expect(log).toContain("stdout: sleeping");
      expect(log).toContain(`executor: pod ${pod!.metadata!.name}: container task`);
      // What the pod printed itself (the agent ships the task's output over RPC, so often nothing) follows the reason.
      expect(log).toMatch(/container task (printed nothing|follow)/);
    },
    T,
  );

  test(
    "an image missing with pull policy never fails the task with the kubelet's reason",
    async () => {
      await trigger("k8s_missing_image", "m1");
      expect((await waitForRun(lf, "k8s_missing_image", "m1", T)).state).toBe("failed");
      const t = await ti("k8s_missing_image", "m1", "t");
      expect(t.note).toMatch(/container task could not start \((ErrImageNeverPull|ImagePullBackOff|ErrImagePull)\)/);
      expect(t.note).toContain("localhost/leoflow-no-such-image:1");
    },
    T,
  );

  test("a DAG asking for an image outside the allowlist is refused at load, naming the field", async () => {
    const dags = (await lf.api("GET", "/api/v2/dags")).body.dags.map((d: any) => d.dag_id);
    expect(dags).not.toContain("k8s_not_allowed");
    const errors = (await lf.api("GET", "/api/v2/importErrors")).body.import_errors;
    const mine = errors.find((e: any) => e.filename.endsWith("not-allowed.json"));
    expect(mine.stack_trace).toContain('tasks[0].image: image "docker.io/library/alpine:3" is not allowed by this server');
  });

  test.skipIf(kt?.kind !== "double")(
    "an API server that forbids creating secrets is a dispatch failure saying which permission is missing",
    async () => {
      const double = kt.double!;
      double.deny("create", "secrets");
      try {
        await trigger("k8s_forbidden", "f1");
        expect((await waitForRun(lf, "k8s_forbidden", "f1", T)).state).toBe("failed");
        const t = await ti("k8s_forbidden", "f1", "t");
        expect(t.note).toContain("dispatch_failed:");
        expect(t.note).toContain("is forbidden (403");
        expect(t.note).toContain("grant the server's service account");
      } finally {
        double.allow("create", "secrets");
      }
    },
    T,
  );

  // Last: it also sees what the tests above left behind.
  test(
    "finished pods and their token secrets are deleted after the grace: none left behind",
    async () => {
      await trigger("k8s_leftovers", "l1");
      expect((await waitForRun(lf, "k8s_leftovers", "l1", T)).state).toBe("success");
      let left: string[] = [];
      const leftovers = async () => [
        ...(await ours()).map((p) => `pod ${p.metadata?.name} (${p.status?.phase})`),
        ...(await kube.listSecrets(`leoflow.io/instance=${instance}`)).map((s) => `secret ${s.metadata?.name}`),
      ];
      await waitFor(
        async () => (left = await leftovers()).length === 0,
        T,
        () => `left behind on the API server:\n${left.join("\n")}`,
      );
    },
    T,
  );
});
