/**
 * What the double's kubelet asks podman for, from a pod's container: environment (env with values,
 * secretKeyRef, configMapKeyRef and fieldRef, envFrom, `$(VAR)` expansion), command/args as entrypoint and
 * cmd, user from securityContext (container over pod), capabilities, read-only root, memory and CPU limits,
 * and the volume binds. Pure: lookups of Secrets and ConfigMaps come in as a function, and a missing one
 * comes back as the kubelet's CreateContainerConfigError message.
 *
 * @example resolveEnv(pod, pod.spec.containers[0], lookup) // { env: ["A=1"], missing: undefined }
 */
import type { KubeObject } from "./object-store";
import { quantityValue } from "./validation";

export type Lookup = (kind: "Secret" | "ConfigMap", name: string) => KubeObject | undefined;

export const LABELS = {
  podUid: "io.kubernetes.pod.uid",
  podName: "io.kubernetes.pod.name",
  podNamespace: "io.kubernetes.pod.namespace",
  container: "io.kubernetes.container.name",
  /** Which double made the container (its instance id), so stop() removes its own and nothing else. */
  double: "io.leoflow.kube-api-double",
};

/** The value of `key` in a Secret (base64 in `data`) or ConfigMap (`data`, then `binaryData`). */
export function dataValue(obj: KubeObject, key: string): string | undefined {
  if (obj.kind === "Secret") return obj.data?.[key] !== undefined ? Buffer.from(obj.data[key], "base64").toString() : undefined;
  return obj.data?.[key] ?? (obj.binaryData?.[key] !== undefined ? Buffer.from(obj.binaryData[key], "base64").toString() : undefined);
}

/** The container's environment, or the reason it cannot be built yet (a missing Secret, ConfigMap or key). */
export function resolveEnv(pod: KubeObject, c: any, lookup: Lookup): { env: Record<string, string>; missing?: string } {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    const ref = from.secretRef ?? from.configMapRef;
    const kind = from.secretRef ? "Secret" : "ConfigMap";
    const obj = lookup(kind, ref.name);
    if (!obj) {
      if (ref.optional) continue;
      return { env, missing: `${kind.toLowerCase()} "${ref.name}" not found` };
    }
    for (const k of Object.keys(obj.data ?? {})) env[(from.prefix ?? "") + k] = dataValue(obj, k)!;
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom === undefined) {
      env[e.name] = expand(e.value ?? "", env);
      continue;
    }
    const vf = e.valueFrom;
    const ref = vf.secretKeyRef ?? vf.configMapKeyRef;
    if (ref) {
      const kind = vf.secretKeyRef ? "Secret" : "ConfigMap";
      const obj = lookup(kind, ref.name);
      const value = obj && dataValue(obj, ref.key);
      if (value === undefined) {
        if (ref.optional) continue;
        return {
          env,
          missing: obj
            ? `couldn't find key ${ref.key} in ${kind} ${pod.metadata.namespace}/${ref.name}`
            : `${kind.toLowerCase()} "${ref.name}" not found`,
        };
      }
      env[e.name] = value;
    } else if (vf.fieldRef) env[e.name] = fieldValue(pod, vf.fieldRef.fieldPath);
    else if (vf.resourceFieldRef) env[e.name] = resourceValue(c, vf.resourceFieldRef);
  }
  return { env };
}

function fieldValue(pod: KubeObject, path: string): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return (pod.metadata[m[1] as "labels"] as Record<string, string> | undefined)?.[m[2]!] ?? "";
  const known: Record<string, string | undefined> = {
    "metadata.name": pod.metadata.name,
    "metadata.namespace": pod.metadata.namespace,
    "metadata.uid": pod.metadata.uid,
    "spec.nodeName": pod.spec.nodeName,
    "spec.serviceAccountName": pod.spec.serviceAccountName,
    "status.podIP": pod.status?.podIP,
    "status.hostIP": pod.status?.hostIP,
  };
  return known[path] ?? "";
}

function resourceValue(c: any, ref: { resource: string; divisor?: string }): string {
  const [kind, name] = ref.resource.split(".") as [string, string];
  const q = c.resources?.[kind]?.[name];
  const v = q === undefined ? 0 : (quantityValue(q) ?? 0);
  return String(Math.ceil(v / (quantityValue(ref.divisor ?? "1") ?? 1)));
}

/** Kubernetes' `$(VAR)` expansion: known names are replaced, `$$` escapes, unknown references stay as written. */
export function expand(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)/g, (all, name: string | undefined) =>
    all === "$$" ? "$" : name !== undefined && name in env ? env[name]! : all,
  );
}

export interface CreateBody {
  Image: string;
  Entrypoint?: string[];
  Cmd?: string[];
  Env: string[];
  User?: string;
  WorkingDir?: string;
  Labels: Record<string, string>;
  HostConfig: Record<string, unknown>;
}

/** The Engine API create body. `binds` are "host:container[:ro]" from the pod's volumes. */
export function containerCreateBody(pod: KubeObject, c: any, env: Record<string, string>, binds: string[], instance: string): CreateBody {
  const sc = { ...(pod.spec.securityContext ?? {}), ...(c.securityContext ?? {}) };
  const user = sc.runAsUser !== undefined ? `${sc.runAsUser}${sc.runAsGroup !== undefined ? `:${sc.runAsGroup}` : ""}` : undefined;
  const memory = c.resources?.limits?.memory !== undefined ? Math.floor(quantityValue(c.resources.limits.memory)!) : 0;
  const cpu = c.resources?.limits?.cpu !== undefined ? Math.round(quantityValue(c.resources.limits.cpu)! * 1e9) : 0;
  const command = c.command?.map((s: string) => expand(s, env));
  const args = c.args?.map((s: string) => expand(s, env));
  return {
    Image: c.image,
    // command replaces the image's ENTRYPOINT (and then its CMD too); args replace its CMD.
    ...(command ? { Entrypoint: command, Cmd: args ?? [] } : args ? { Cmd: args } : {}),
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    ...(user ? { User: user } : {}),
    ...(c.workingDir ? { WorkingDir: c.workingDir } : {}),
    Labels: {
      [LABELS.double]: instance,
      [LABELS.podUid]: pod.metadata.uid,
      [LABELS.podName]: pod.metadata.name,
      [LABELS.podNamespace]: pod.metadata.namespace!,
      [LABELS.container]: c.name,
    },
    HostConfig: {
      Binds: binds,
      // Every pod reaches the host's loopback, as a cluster's pods reach the control plane's Service.
      NetworkMode: "host",
      Privileged: sc.privileged === true,
      ReadonlyRootfs: sc.readOnlyRootFilesystem === true,
      CapDrop: sc.capabilities?.drop ?? [],
      CapAdd: sc.capabilities?.add ?? [],
      SecurityOpt: sc.allowPrivilegeEscalation === false ? ["no-new-privileges"] : [],
      // fsGroup and supplementalGroups are the container's supplementary groups, as on a real node.
      GroupAdd: [
        ...(pod.spec.securityContext?.fsGroup !== undefined ? [pod.spec.securityContext.fsGroup] : []),
        ...(pod.spec.securityContext?.supplementalGroups ?? []),
      ].map(String),
      ...(memory ? { Memory: memory, MemorySwap: memory } : {}),
      ...(cpu ? { NanoCpus: cpu } : {}),
      AutoRemove: false,
    },
  };
}

/** The name dockershim gave pod containers: k8s_<container>_<pod>_<namespace>_<uid>_<attempt>. */
export const engineContainerName = (pod: KubeObject, c: { name: string }) =>
  `k8s_${c.name}_${pod.metadata.name}_${pod.metadata.namespace}_${pod.metadata.uid}_0`;
