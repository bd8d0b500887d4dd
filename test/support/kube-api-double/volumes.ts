/**
 * Pod volumes on the host, for the double's kubelet: an emptyDir is a fresh directory per pod (mode 0777,
 * as Kubernetes makes it), a secret or configMap volume a directory of files (defaultMode 0644), a
 * persistentVolumeClaim the claim's own directory, made when the claim is created (the double's storage
 * provisioner binds every claim at once) and removed with it. With the pod's `fsGroup`, volume files and
 * directories belong to that group (and containers get it as a supplementary group), as on a real node.
 * Directories live under the double's workDir.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dataValue, type Lookup } from "./container-config";
import type { KubeObject } from "./object-store";

/** The host directory of a claim: keyed by its uid, so a claim re-created under the same name starts empty. */
export const claimDir = (workDir: string, pvc: KubeObject) =>
  join(workDir, "claims", `${pvc.metadata.namespace}_${pvc.metadata.name}_${pvc.metadata.uid}`);

export function provisionClaim(workDir: string, pvc: KubeObject): void {
  const dir = claimDir(workDir, pvc);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
}

export function releaseClaim(workDir: string, pvc: KubeObject): void {
  rmSync(claimDir(workDir, pvc), { recursive: true, force: true });
}

export type VolumeResult = { dirs: Map<string, string>; waiting?: undefined } | { dirs?: undefined; waiting: string };

/**
 * Makes the pod's volumes under `podDir`; or says why it cannot yet (the kubelet's FailedMount message)
 * when a Secret, ConfigMap or claim it needs does not exist.
 */
export function prepareVolumes(
  pod: KubeObject,
  podDir: string,
  lookup: Lookup,
  claim: (name: string) => KubeObject | undefined,
  workDir: string,
): VolumeResult {
  const dirs = new Map<string, string>();
  const fsGroup: number | undefined = pod.spec.securityContext?.fsGroup;
  const own = (path: string) => fsGroup !== undefined && chownSync(path, 0, fsGroup);
  for (const v of pod.spec.volumes ?? []) {
    const dir = join(podDir, "volumes", v.name);
    const fail = (why: string) => ({ waiting: `MountVolume.SetUp failed for volume "${v.name}" : ${why}` });
    if (v.emptyDir) {
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o777);
      own(dir);
    } else if (v.secret || v.configMap) {
      const kind = v.secret ? "Secret" : "ConfigMap";
      const src = v.secret ?? v.configMap;
      const name = v.secret ? v.secret.secretName : v.configMap.name;
      const obj = lookup(kind, name);
      if (!obj && !src.optional) return fail(`${kind.toLowerCase()} "${name}" not found`);
      mkdirSync(dir, { recursive: true });
      const keys: { key: string; path: string; mode?: number }[] =
        src.items ?? Object.keys({ ...(obj?.data ?? {}), ...(obj?.binaryData ?? {}) }).map((key) => ({ key, path: key }));
      for (const item of keys) {
        const value = obj && dataValue(obj, item.key);
        if (value === undefined) {
          if (src.optional) continue;
          return fail(`references non-existent ${kind.toLowerCase()} key: ${item.key}`);
        }
        const file = join(dir, item.path);
        mkdirSync(join(file, ".."), { recursive: true });
        writeFileSync(file, obj!.kind === "Secret" ? Buffer.from(obj!.data[item.key], "base64") : value);
        chmodSync(file, item.mode ?? src.defaultMode ?? 0o644);
        own(file);
      }
      chmodSync(dir, 0o755);
      own(dir);
    } else if (v.persistentVolumeClaim) {
      const pvc = claim(v.persistentVolumeClaim.claimName);
      if (!pvc) return fail(`persistentvolumeclaim "${v.persistentVolumeClaim.claimName}" not found`);
      dirs.set(v.name, claimDir(workDir, pvc));
      own(claimDir(workDir, pvc));
      continue;
    } else if (v.hostPath) {
      dirs.set(v.name, v.hostPath.path);
      continue;
    } else {
      // projected, downwardAPI and the rest: an empty directory (the double does not fill them).
      mkdirSync(dir, { recursive: true });
    }
    dirs.set(v.name, dir);
  }
  return { dirs };
}

/** "host:container[:ro]" binds for a container's volumeMounts; secret and configMap volumes are always read-only. */
export function binds(pod: KubeObject, c: any, dirs: Map<string, string>): string[] {
  return (c.volumeMounts ?? []).map((m: any) => {
    const v = (pod.spec.volumes ?? []).find((x: any) => x.name === m.name);
    let host = dirs.get(m.name)!;
    if (m.subPath) {
      host = join(host, m.subPath);
      if (!existsSync(host)) mkdirSync(host, { recursive: true });
    }
    const ro = m.readOnly || v?.secret || v?.configMap || v?.persistentVolumeClaim?.readOnly;
    return `${host}:${m.mountPath}${ro ? ":ro" : ""}`;
  });
}
