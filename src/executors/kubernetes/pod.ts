/**
 * buildPod: the Pod and its token Secret for one task instance try. Pure, so the security defaults are
 * table-tested without a cluster:
 * - an init container copies the leoflow binary from the Leoflow image into an emptyDir, so any task image
 *   with a libc works; the task container runs `leoflow agent --server <advertise url>`;
 * - the agent token lives in a per-try Secret named like the pod, read through secretKeyRef, never in the spec;
 * - non-root, no privilege escalation, every capability dropped, read-only root with an emptyDir /tmp,
 *   seccomp RuntimeDefault, no host namespaces, no service-account token unless the operator asks;
 * - limits always set (task, then the DAG's default_args — already merged into the task — then the platform
 *   defaults), activeDeadlineSeconds as a backstop behind execution_timeout.
 *
 * @example buildPod(req, settings).pod.spec.containers[0].command // ["/leoflow/leoflow", "agent", "--server", "http://leoflow:8080"]
 */
import type {
  V1Container,
  V1EnvVar,
  V1Pod,
  V1ResourceRequirements,
  V1Secret,
  V1SecurityContext,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";
import { AGENT_SETTINGS_ENV, ValidationError, type TaskSpec } from "../../domain";
import type { ExecutorRequest } from "../executor";
import { parseMemoryBytes, parseNanoCpus } from "../docker/quantities";
import type { PullPolicy } from "../docker/settings";
import { labelValue, podName } from "./names";
import { ANNOTATION, CA_KEY, LABEL, MANAGED_BY, MOUNT, TOKEN_KEY, type KubernetesSettings } from "./settings";

export interface PodOptions {
  /** The run's staging PVC, when the DAG enables staging. */
  stagingPvc?: string;
}

export interface BuiltPod {
  name: string;
  pod: V1Pod;
  /** Holds the agent token; created first, and the pod's owner, so deleting it takes the pod along. */
  secret: V1Secret;
}

/** The agent reports the timeout itself; the pod deadline only catches an agent that cannot (image pull counts too). */
export const DEADLINE_MARGIN_SECONDS = 120;

const PULL: Record<PullPolicy, string> = { always: "Always", if_not_present: "IfNotPresent", never: "Never" };

export function buildPod(req: ExecutorRequest, settings: KubernetesSettings, opts: PodOptions = {}): BuiltPod {
  const task = req.task;
  const image = task.image ?? settings.defaultImage;
  if (!image)
    throw new ValidationError(
      `task ${task.task_id}: no image to run it in; set image on the task or in default_args, or start the server with --k8s-default-image`,
    );
  const name = podName(req, settings.instance);
  const labels = podLabels(req, settings.instance);
  const metadata = {
    name,
    // A team's policy may name its own namespace (ExecutorRequest.namespace); the executor's otherwise.
    namespace: req.namespace ?? settings.namespace,
    labels,
    annotations: { [ANNOTATION.dag]: req.dagId, [ANNOTATION.run]: req.runId, [ANNOTATION.task]: req.taskId },
  };
  const secure: V1SecurityContext = {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
  const volumes: V1Volume[] = [
    { name: "leoflow-agent", emptyDir: {} },
    { name: "tmp", emptyDir: {} },
  ];
  const mounts: V1VolumeMount[] = [
    { name: "leoflow-agent", mountPath: MOUNT.agentDir, readOnly: true },
    { name: "tmp", mountPath: MOUNT.tmp },
  ];
  if (opts.stagingPvc) {
    volumes.push({ name: "staging", persistentVolumeClaim: { claimName: opts.stagingPvc } });
    mounts.push({ name: "staging", mountPath: MOUNT.staging });
  }
  if (settings.taskSecret) {
    volumes.push({ name: "task-secret", secret: { secretName: settings.taskSecret, defaultMode: 0o440 } });
    mounts.push({ name: "task-secret", mountPath: MOUNT.taskSecret, readOnly: true });
  }
  if (settings.caConfigMap) {
    volumes.push({ name: "ca", configMap: { name: settings.caConfigMap, items: [{ key: CA_KEY, path: CA_KEY }] } });
    mounts.push({ name: "ca", mountPath: MOUNT.ca, readOnly: true });
  }
  const initContainer: V1Container = {
    name: "install-agent",
    image: settings.agentImage,
    imagePullPolicy: "IfNotPresent",
    command: ["cp", settings.agentImageBinary, MOUNT.agent],
    volumeMounts: [{ name: "leoflow-agent", mountPath: MOUNT.agentDir }],
    securityContext: secure,
    resources: { limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "50m", memory: "32Mi" } },
  };
  const container: V1Container = {
    name: "task",
    image,
    imagePullPolicy: PULL[task.image_pull_policy ?? settings.pullPolicy],
    command: [MOUNT.agent, "agent", "--server", req.controlPlaneUrl],
    workingDir: MOUNT.tmp,
    env: taskEnv(req, settings, name, opts),
    volumeMounts: mounts,
    securityContext: secure,
    resources: podResources(task, settings),
  };
  const pod: V1Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata,
    spec: {
      restartPolicy: "Never",
      initContainers: [initContainer],
      containers: [container],
      volumes,
      hostNetwork: false,
      hostPID: false,
      hostIPC: false,
      enableServiceLinks: false,
      automountServiceAccountToken: settings.automountServiceAccountToken,
      ...(settings.serviceAccount ? { serviceAccountName: settings.serviceAccount } : {}),
      ...(Object.keys(settings.nodeSelector).length ? { nodeSelector: settings.nodeSelector } : {}),
      ...(settings.tolerations.length ? { tolerations: settings.tolerations } : {}),
      terminationGracePeriodSeconds: settings.podGraceSeconds,
      ...(task.execution_timeout ? { activeDeadlineSeconds: Math.ceil(task.execution_timeout) + DEADLINE_MARGIN_SECONDS } : {}),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: settings.runAsUser,
        runAsGroup: settings.runAsGroup,
        // The staging PVC is writable by the task's group.
        fsGroup: settings.runAsGroup,
        seccompProfile: { type: "RuntimeDefault" },
      },
    },
  };
  const secret: V1Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { ...metadata },
    type: "Opaque",
    stringData: { [TOKEN_KEY]: req.agentToken },
  };
  return { name, pod, secret };
}

export function podLabels(
  req: Pick<ExecutorRequest, "dagId" | "runId" | "taskId" | "tryNumber" | "taskInstanceId">,
  instance: string,
): Record<string, string> {
  return {
    [LABEL.managedBy]: MANAGED_BY,
    [LABEL.instance]: labelValue(instance),
    [LABEL.dag]: labelValue(req.dagId),
    [LABEL.run]: labelValue(req.runId),
    [LABEL.task]: labelValue(req.taskId),
    [LABEL.try]: String(req.tryNumber),
    [LABEL.tiId]: String(req.taskInstanceId),
  };
}

/** Only what the task may see (task-env.ts): its env, the operator's passthrough names, its own LEOFLOW_*. */
function taskEnv(req: ExecutorRequest, settings: KubernetesSettings, secretName: string, opts: PodOptions): V1EnvVar[] {
  const passthrough = settings.passthroughEnv ?? {};
  const plain: Record<string, string> = {
    ...passthrough,
    ...(Object.keys(passthrough).length ? { [AGENT_SETTINGS_ENV.passthrough]: Object.keys(passthrough).join(",") } : {}),
    ...(req.task.env ?? {}),
    HOME: MOUNT.tmp,
    TMPDIR: MOUNT.tmp,
    LEOFLOW_SERVER: req.controlPlaneUrl,
    ...(opts.stagingPvc ? { LEOFLOW_STAGING_DIR: MOUNT.staging } : {}),
    // Bun (the agent) adds this bundle to its trusted CAs for the control plane's TLS.
    ...(settings.caConfigMap ? { NODE_EXTRA_CA_CERTS: `${MOUNT.ca}/${CA_KEY}` } : {}),
  };
  return [
    ...Object.entries(plain).map(([name, value]) => ({ name, value })),
    { name: "LEOFLOW_AGENT_TOKEN", valueFrom: { secretKeyRef: { name: secretName, key: TOKEN_KEY } } },
  ];
}

export interface PodQuantities {
  memoryBytes: number;
  memoryRequestBytes: number;
  nanoCpus: number;
  cpuRequestNanos: number;
}

/** limits.X, then X, then requests.X, then the platform default; requests default to the limits. */
export function resolveQuantities(
  task: Pick<TaskSpec, "task_id" | "resources">,
  settings: Pick<KubernetesSettings, "defaultCpu" | "defaultMemory">,
): PodQuantities {
  const r = task.resources ?? {};
  const where = `task ${task.task_id}: resources`;
  const memQ = r.limits?.memory ?? r.memory ?? r.requests?.memory ?? settings.defaultMemory;
  const cpuQ = r.limits?.cpu ?? r.cpu ?? r.requests?.cpu ?? settings.defaultCpu;
  const memory = parseMemoryBytes(memQ);
  const cpu = parseNanoCpus(cpuQ);
  if (memory === null) throw new ValidationError(`${where}: memory ${JSON.stringify(memQ)} is not a quantity; write e.g. "512Mi" or "1Gi"`);
  if (cpu === null) throw new ValidationError(`${where}: cpu ${JSON.stringify(cpuQ)} is not a quantity; write e.g. "500m" or 2`);
  const memReq = r.requests?.memory !== undefined ? parseMemoryBytes(r.requests.memory) : memory;
  const cpuReq = r.requests?.cpu !== undefined ? parseNanoCpus(r.requests.cpu) : cpu;
  if (memReq === null)
    throw new ValidationError(`${where}: requests.memory ${JSON.stringify(r.requests?.memory)} is not a quantity; write e.g. "256Mi"`);
  if (cpuReq === null)
    throw new ValidationError(`${where}: requests.cpu ${JSON.stringify(r.requests?.cpu)} is not a quantity; write e.g. "250m"`);
  if (memReq > memory)
    throw new ValidationError(`${where}: requests.memory is above the memory limit; lower the request or raise the limit`);
  if (cpuReq > cpu) throw new ValidationError(`${where}: requests.cpu is above the cpu limit; lower the request or raise the limit`);
  return { memoryBytes: memory, memoryRequestBytes: memReq, nanoCpus: cpu, cpuRequestNanos: cpuReq };
}

/**
 * Quantities in the one spelling Kubernetes reads the same way everywhere: bytes and millicores (DAG authors
 * may write Docker's "512m", which Kubernetes would read as 0.512 bytes).
 */
export function podResources(
  task: Pick<TaskSpec, "task_id" | "resources">,
  settings: Pick<KubernetesSettings, "defaultCpu" | "defaultMemory">,
): V1ResourceRequirements {
  const q = resolveQuantities(task, settings);
  const milli = (nanos: number) => `${Math.max(1, Math.ceil(nanos / 1e6))}m`;
  return {
    limits: { cpu: milli(q.nanoCpus), memory: String(q.memoryBytes) },
    requests: { cpu: milli(q.cpuRequestNanos), memory: String(q.memoryRequestBytes) },
  };
}
