/** What the operator configures for the Kubernetes executor (from `leoflow serve --k8s-*` flags). */
import type { PullPolicy } from "../docker/settings";
import { errorMessage } from "../../domain";

export interface Toleration {
  key?: string;
  operator?: "Exists" | "Equal";
  value?: string;
  effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  tolerationSeconds?: number;
}

export interface KubernetesSettings {
  /** Namespace of every pod, secret and PVC this executor makes. */
  namespace: string;
  /** The Leoflow image; its init container copies the leoflow binary into the pod. */
  agentImage: string;
  /** Path of the leoflow binary inside agentImage. */
  agentImageBinary: string;
  /** Image of tasks that name none (task image, then default_args, then this). */
  defaultImage: string;
  /** Limits of a task that sets none (limits are always set). */
  defaultCpu: string | number;
  defaultMemory: string;
  pullPolicy: PullPolicy;
  /** Service account of task pods; "" uses the namespace's default one. */
  serviceAccount: string;
  /** Mount the service account's API token into task pods (off unless asked). */
  automountServiceAccountToken: boolean;
  nodeSelector: Record<string, string>;
  tolerations: Toleration[];
  /** uid and gid tasks run as (runAsNonRoot: never 0). */
  runAsUser: number;
  runAsGroup: number;
  /** Seconds between SIGTERM and SIGKILL when a pod is deleted. */
  podGraceSeconds: number;
  /** A Secret (in `namespace`) mounted read-only into every task pod at TASK_SECRET_MOUNT; "" for none. */
  taskSecret: string;
  /** A ConfigMap holding the CA bundle (key `ca.crt`) the agent trusts for the control plane's TLS; "" for none. */
  caConfigMap: string;
  /** Staging PVCs: storage class ("" = the cluster default) and size when the DAG names none. */
  stagingStorageClass: string;
  stagingSize: string;
  /** Names the store this server works for (dockerInstanceId); in every object's name and labels. */
  instance: string;
  /** The --task-env-passthrough variables of the server, by name (see task-env.ts). */
  passthroughEnv?: Record<string, string>;
}

/** What a DAG may ask for; anything else is refused when the DAG is loaded. */
export interface KubernetesPolicy {
  /** Image patterns (`*` matches any run of characters); empty means any image. */
  allowedImages: string[];
  maxCpu?: string | number;
  maxMemory?: string;
}

/** Where things appear inside a task pod. */
export const MOUNT = {
  agentDir: "/leoflow",
  agent: "/leoflow/leoflow",
  tmp: "/tmp",
  staging: "/staging",
  taskSecret: "/var/run/secrets/leoflow/task",
  ca: "/etc/leoflow/ca",
} as const;

/** The key of the per-try Secret holding the agent token, and of the CA ConfigMap holding the bundle. */
export const TOKEN_KEY = "token";
export const CA_KEY = "ca.crt";

/** Labels (selectable, sanitised) and annotations (exact values) on every object this executor makes. */
export const LABEL = {
  managedBy: "app.kubernetes.io/managed-by",
  instance: "leoflow.io/instance",
  dag: "leoflow.io/dag-id",
  run: "leoflow.io/run-id",
  task: "leoflow.io/task-id",
  try: "leoflow.io/try-number",
  tiId: "leoflow.io/ti-id",
  staging: "leoflow.io/staging",
} as const;
export const MANAGED_BY = "leoflow";
export const ANNOTATION = {
  /** The team of the run (staging PVCs); absent on PVCs made before teams: the default team. */
  team: "leoflow.io/team",
  dag: "leoflow.io/dag-id",
  run: "leoflow.io/run-id",
  task: "leoflow.io/task-id",
} as const;

/** Where the Leoflow image (deploy/kubernetes/Dockerfile) keeps the binary the init container copies. */
export const AGENT_BINARY_IN_IMAGE = "/usr/local/bin/leoflow";

/** `--k8s-node-selector "disk=ssd,pool=batch"` → { disk: "ssd", pool: "batch" }; throws a message naming the bad pair. */
export function parseNodeSelector(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`"${pair}" is not key=value; write e.g. "disktype=ssd,pool=batch"`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** `--k8s-tolerations '[{"key":"batch","operator":"Exists","effect":"NoSchedule"}]'`; throws a message saying what is wrong. */
export function parseTolerations(text: string): Toleration[] {
  if (!text.trim()) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`is not JSON (${errorMessage(e)}); write a list such as [{"key":"batch","operator":"Exists","effect":"NoSchedule"}]`);
  }
  if (!Array.isArray(value)) throw new Error('must be a JSON list of tolerations, e.g. [{"key":"batch","operator":"Exists"}]');
  const fields = new Set(["key", "operator", "value", "effect", "tolerationSeconds"]);
  value.forEach((t, i) => {
    if (typeof t !== "object" || t === null || Array.isArray(t)) throw new Error(`[${i}] must be an object`);
    const unknown = Object.keys(t).find((k) => !fields.has(k));
    if (unknown)
      throw new Error(`[${i}] has an unknown field "${unknown}"; a toleration has key, operator, value, effect, tolerationSeconds`);
    const o = t as Toleration;
    if (o.operator !== undefined && o.operator !== "Exists" && o.operator !== "Equal")
      throw new Error(`[${i}].operator must be Exists or Equal`);
    if (o.effect !== undefined && !["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(o.effect))
      throw new Error(`[${i}].effect must be NoSchedule, PreferNoSchedule or NoExecute`);
  });
  return value as Toleration[];
}

/** `--k8s-user "65534:65534"` → uid and gid; root (0) is refused since task pods run as non-root. */
export function parseRunAs(text: string): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not uid or uid:gid (numbers), e.g. "65534:65534"`);
  const uid = Number(m[1]);
  const gid = Number(m[2] ?? m[1]);
  if (uid === 0) throw new Error("uid 0 is root; task pods run as non-root, pick another uid such as 65534");
  return { uid, gid };
}
