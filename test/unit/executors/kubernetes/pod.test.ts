/** buildPod: what a task pod may do, where its token lives, its resources and deadline. Table-driven, no cluster. */
import { describe, expect, test } from "bun:test";
import { Pod } from "kubernetes-models/v1/Pod";
import { Secret } from "kubernetes-models/v1/Secret";
import { buildPod, podResources, type KubernetesSettings } from "../../../../src/executors/kubernetes";
import type { ExecutorRequest } from "../../../../src/executors";
import type { TaskSpec } from "../../../../src/domain";

export const settings: KubernetesSettings = {
  namespace: "leoflow",
  agentImage: "registry.example/leoflow:1.0",
  agentImageBinary: "/usr/local/bin/leoflow",
  defaultImage: "debian:bookworm-slim",
  defaultCpu: "1",
  defaultMemory: "512Mi",
  pullPolicy: "if_not_present",
  serviceAccount: "",
  automountServiceAccountToken: false,
  nodeSelector: {},
  tolerations: [],
  runAsUser: 65534,
  runAsGroup: 65534,
  podGraceSeconds: 10,
  taskSecret: "",
  caConfigMap: "",
  stagingStorageClass: "",
  stagingSize: "1Gi",
  instance: "3f9a0c1d2e4b",
};

export function request(task: Partial<TaskSpec> = {}, over: Partial<ExecutorRequest> = {}): ExecutorRequest {
  return {
    taskInstanceId: 42,
    team: "default",
    dagId: "etl",
    runId: "manual__2026-01-01T00:00:00+00:00",
    taskId: "extract",
    tryNumber: 2,
    task: { task_id: "extract", operator: "bash", bash_command: "echo hi", upstream: [], ...task } as TaskSpec,
    dagFile: "/dags/etl.json",
    controlPlaneUrl: "http://leoflow.leoflow.svc:8080",
    agentToken: "secret-token-value",
    ...over,
  };
}

const task = (p: ReturnType<typeof buildPod>) => p.pod.spec!.containers[0]!;

describe("buildPod: safe by default", () => {
  const built = buildPod(request(), settings);
  const spec = built.pod.spec!;
  test.each([
    ["restartPolicy", spec.restartPolicy, "Never"],
    ["hostNetwork", spec.hostNetwork, false],
    ["hostPID", spec.hostPID, false],
    ["hostIPC", spec.hostIPC, false],
    ["automountServiceAccountToken", spec.automountServiceAccountToken, false],
    ["pod runAsNonRoot", spec.securityContext?.runAsNonRoot, true],
    ["pod runAsUser", spec.securityContext?.runAsUser, 65534],
    ["pod seccomp", spec.securityContext?.seccompProfile?.type, "RuntimeDefault"],
    ["container allowPrivilegeEscalation", task(built).securityContext?.allowPrivilegeEscalation, false],
    ["container privileged", task(built).securityContext?.privileged, false],
    ["container readOnlyRootFilesystem", task(built).securityContext?.readOnlyRootFilesystem, true],
    ["container capabilities", task(built).securityContext?.capabilities?.drop, ["ALL"]],
    ["init container capabilities", spec.initContainers![0]!.securityContext?.capabilities?.drop, ["ALL"]],
    ["no service account named", spec.serviceAccountName, undefined],
    ["no deadline without execution_timeout", spec.activeDeadlineSeconds, undefined],
  ])("%s", (_, actual, expected) => expect(actual).toEqual(expected as never));

  test("/tmp is a writable emptyDir; the agent directory is read-only in the task container", () => {
    const mounts = Object.fromEntries(task(built).volumeMounts!.map((m) => [m.mountPath, m]));
    expect(mounts["/tmp"]?.readOnly).toBeUndefined();
    expect(mounts["/leoflow"]?.readOnly).toBe(true);
    const vols = Object.fromEntries(spec.volumes!.map((v) => [v.name, v]));
    expect(vols["tmp"]?.emptyDir).toEqual({});
    expect(vols["leoflow-agent"]?.emptyDir).toEqual({});
    expect(spec.volumes!.some((v) => "hostPath" in v)).toBe(false);
  });

  test("the init container copies the binary from the Leoflow image; the task container runs the agent", () => {
    const init = spec.initContainers![0]!;
    expect(init.image).toBe("registry.example/leoflow:1.0");
    expect(init.command).toEqual(["cp", "/usr/local/bin/leoflow", "/leoflow/leoflow"]);
    expect(task(built).command).toEqual(["/leoflow/leoflow", "agent", "--server", "http://leoflow.leoflow.svc:8080"]);
    expect(task(built).image).toBe("debian:bookworm-slim");
  });

  test("the token is in the per-try Secret, named like the pod, never in the pod spec", () => {
    expect(JSON.stringify(built.pod)).not.toContain("secret-token-value");
    expect(built.secret.stringData).toEqual({ token: "secret-token-value" });
    expect(built.secret.metadata?.name).toBe(built.name);
    const env = task(built).env!.find((e) => e.name === "LEOFLOW_AGENT_TOKEN");
    expect(env?.valueFrom?.secretKeyRef).toEqual({ name: built.name, key: "token" });
  });

  test("labels name the try; annotations keep the exact ids", () => {
    expect(built.pod.metadata?.labels).toEqual({
      "app.kubernetes.io/managed-by": "leoflow",
      "leoflow.io/instance": "3f9a0c1d2e4b",
      "leoflow.io/dag-id": "etl",
      "leoflow.io/run-id": expect.stringMatching(/^manual__2026-01-01T00_00_00_00_00-[0-9a-f]{8}$/),
      "leoflow.io/task-id": "extract",
      "leoflow.io/try-number": "2",
      "leoflow.io/ti-id": "42",
    });
    expect(built.pod.metadata?.annotations?.["leoflow.io/run-id"]).toBe("manual__2026-01-01T00:00:00+00:00");
  });

  test("the pod and secret validate against Kubernetes' schemas", () => {
    expect(() => new Pod(built.pod as never).validate()).not.toThrow();
    expect(() => new Secret(built.secret as never).validate()).not.toThrow();
    const everything = buildPod(
      request({ execution_timeout: 30, image_pull_policy: "always", env: { A: "1" } }),
      {
        ...settings,
        serviceAccount: "tasks",
        automountServiceAccountToken: true,
        nodeSelector: { pool: "batch" },
        tolerations: [{ key: "batch", operator: "Exists", effect: "NoSchedule" }],
        taskSecret: "task-creds",
        caConfigMap: "leoflow-ca",
      },
      { stagingPvc: "lf-stg-x" },
    );
    expect(() => new Pod(everything.pod as never).validate()).not.toThrow();
  });
});

describe("buildPod: options", () => {
  test.each([
    ["pull policy from settings", {}, {}, (b: ReturnType<typeof buildPod>) => task(b).imagePullPolicy, "IfNotPresent"],
    [
      "task pull policy wins",
      { image_pull_policy: "never" as const },
      {},
      (b: ReturnType<typeof buildPod>) => task(b).imagePullPolicy,
      "Never",
    ],
    ["task image wins", { image: "python:3.12-slim" }, {}, (b: ReturnType<typeof buildPod>) => task(b).image, "python:3.12-slim"],
    [
      "deadline is execution_timeout plus a margin",
      { execution_timeout: 30.5 },
      {},
      (b: ReturnType<typeof buildPod>) => b.pod.spec!.activeDeadlineSeconds,
      151,
    ],
    ["service account", {}, { serviceAccount: "tasks" }, (b: ReturnType<typeof buildPod>) => b.pod.spec!.serviceAccountName, "tasks"],
    [
      "token mounted only when asked",
      {},
      { automountServiceAccountToken: true },
      (b: ReturnType<typeof buildPod>) => b.pod.spec!.automountServiceAccountToken,
      true,
    ],
    [
      "node selector",
      {},
      { nodeSelector: { pool: "batch" } },
      (b: ReturnType<typeof buildPod>) => b.pod.spec!.nodeSelector,
      { pool: "batch" },
    ],
    [
      "tolerations",
      {},
      { tolerations: [{ key: "k", operator: "Exists" as const }] },
      (b: ReturnType<typeof buildPod>) => b.pod.spec!.tolerations,
      [{ key: "k", operator: "Exists" }],
    ],
    ["grace", {}, { podGraceSeconds: 3 }, (b: ReturnType<typeof buildPod>) => b.pod.spec!.terminationGracePeriodSeconds, 3],
    [
      "task secret mounted read-only",
      {},
      { taskSecret: "creds" },
      (b: ReturnType<typeof buildPod>) => task(b).volumeMounts!.find((m) => m.name === "task-secret"),
      { name: "task-secret", mountPath: "/var/run/secrets/leoflow/task", readOnly: true },
    ],
    [
      "CA bundle for the agent",
      {},
      { caConfigMap: "leoflow-ca" },
      (b: ReturnType<typeof buildPod>) => task(b).env!.find((e) => e.name === "NODE_EXTRA_CA_CERTS")?.value,
      "/etc/leoflow/ca/ca.crt",
    ],
  ])("%s", (_, t, s, pick, expected) => {
    expect(pick(buildPod(request(t), { ...settings, ...s })) as unknown).toEqual(expected);
  });

  test("staging: the run's PVC at /staging and LEOFLOW_STAGING_DIR", () => {
    const b = buildPod(request(), settings, { stagingPvc: "lf-stg-abc" });
    expect(b.pod.spec!.volumes!.find((v) => v.name === "staging")?.persistentVolumeClaim).toEqual({ claimName: "lf-stg-abc" });
    expect(task(b).env).toContainEqual({ name: "LEOFLOW_STAGING_DIR", value: "/staging" });
  });

  test("the task sees its env and the passthrough names, nothing else of the server", () => {
    const b = buildPod(request({ env: { GREETING: "hi" } }), { ...settings, passthroughEnv: { AWS_REGION: "eu-west-1" } });
    expect(
      Object.fromEntries(
        task(b)
          .env!.filter((e) => e.value !== undefined)
          .map((e) => [e.name, e.value]),
      ),
    ).toEqual({
      AWS_REGION: "eu-west-1",
      LEOFLOW_TASK_ENV_PASSTHROUGH: "AWS_REGION",
      GREETING: "hi",
      HOME: "/tmp",
      TMPDIR: "/tmp",
      LEOFLOW_SERVER: "http://leoflow.leoflow.svc:8080",
    });
  });

  test("no image anywhere is refused with the fix", () => {
    expect(() => buildPod(request(), { ...settings, defaultImage: "" })).toThrow(/--k8s-default-image/);
  });
});

describe("podResources: task > DAG default_args (merged into the task) > platform defaults", () => {
  test.each([
    ["platform defaults", undefined, { limits: { cpu: "1000m", memory: "536870912" }, requests: { cpu: "1000m", memory: "536870912" } }],
    [
      "task cpu and memory",
      { cpu: "500m", memory: "1Gi" },
      { limits: { cpu: "500m", memory: "1073741824" }, requests: { cpu: "500m", memory: "1073741824" } },
    ],
    [
      "limits and requests",
      { limits: { cpu: 2, memory: "2Gi" }, requests: { cpu: "250m", memory: "256Mi" } },
      { limits: { cpu: "2000m", memory: "2147483648" }, requests: { cpu: "250m", memory: "268435456" } },
    ],
    [
      "Docker's lowercase m is MiB, written out as bytes",
      { memory: "256m" },
      { limits: { cpu: "1000m", memory: "268435456" }, requests: { cpu: "1000m", memory: "268435456" } },
    ],
  ])("%s", (_, resources, expected) => {
    expect(podResources({ task_id: "t", resources }, settings)).toEqual(expected);
  });

  test.each([
    [{ memory: "lots" }, /memory "lots" is not a quantity/],
    [{ cpu: "fast" }, /cpu "fast" is not a quantity/],
    [{ limits: { memory: "1Gi" }, requests: { memory: "2Gi" } }, /requests.memory is above the memory limit/],
  ])("%j is refused", (resources, message) => {
    expect(() => podResources({ task_id: "t", resources }, settings)).toThrow(message);
  });
});
