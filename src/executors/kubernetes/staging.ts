/**
 * Staging volumes: one PersistentVolumeClaim per DAG run whose DAG sets `staging: { enabled: true }`, mounted
 * at /staging in every task pod of the run. Its name comes from (dag_id, run_id) alone (and this server's
 * instance), so retries and a clear + re-run find the same data. The store records each volume when it is
 * created and each deletion with its reason (table staging_volumes); the PVC's labels and annotations name
 * its run too, so a PVC made before it was recorded is still collected.
 *
 * GC (stagingGcDecision, pure): right after a run succeeds, `ttlMs` after it failed, and always for an orphan
 * (its run is gone, or the PVC names none; the store's live records of runs that are gone count too, should
 * their PVC have lost its labels). Every deletion is logged and recorded with its reason.
 *
 * A run's PVC lives in the namespace its pods run in (the team's policy may name one); GC looks in the
 * executor's namespace and in every namespace the teams' policies name.
 *
 * @example await staging.ensure({ team: "default", dagId: "etl", runId: "manual__2026-01-01" }, "leoflow") // "lf-stg-…" or undefined
 */
import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import type { DagRunRecord, DagSpec } from "../../domain";
import { DEFAULT_TEAM, errorMessage } from "../../domain";
import type { Logger } from "../../observability";
import { parseMemoryBytes } from "../docker/quantities";
import type { KubeClient } from "./client";
import { KubeError } from "./errors";
import { labelValue, stagingPvcName } from "./names";
import { ANNOTATION, LABEL, MANAGED_BY, type KubernetesSettings } from "./settings";

/** The executor's name in the store's staging_volumes records. */
export const STAGING_EXECUTOR = "kubernetes";

/** The store calls staging makes (the Store satisfies it; its StagingVolumeStore port has the records). */
export interface StagingStorePort {
  getDagRun(team: string, dagId: string, runId: string): Promise<Pick<DagRunRecord, "state" | "end_date" | "version_id"> | null>;
  getDagVersion(versionId: number): Promise<Pick<DagSpec, "staging"> | null>;
  recordStagingVolume(
    volume: { executor: string; team: string; name: string; dag_id: string; run_id: string },
    now: Date,
  ): Promise<boolean>;
  markStagingVolumeDeleted(executor: string, name: string, reason: string, now: Date): Promise<boolean>;
  listOrphanStagingVolumes(executor: string): Promise<{ name: string; dag_id: string; run_id: string }[]>;
}

export type StagingSettings = Pick<KubernetesSettings, "instance" | "namespace" | "stagingStorageClass" | "stagingSize"> & {
  stagingAccessMode: string;
};

export interface StagingOptions {
  kube: KubeClient;
  store: StagingStorePort;
  settings: StagingSettings;
  logger: Logger;
  /** How long a failed run's PVC is kept. */
  ttlMs: number;
  /** Namespaces besides settings.namespace that runs' PVCs may be in (teams' policies). */
  extraNamespaces?: () => Promise<string[]>;
}

/** Which run a PVC serves. */
export interface StagingRun {
  team: string;
  dagId: string;
  runId: string;
}

export function stagingGcDecision(
  run: { state: string; end_date: Date | null } | null,
  now: Date,
  ttlMs: number,
): { remove: boolean; why: string } {
  if (!run) return { remove: true, why: "orphan: its run no longer exists" };
  if (run.state === "success") return { remove: true, why: "its run succeeded" };
  if (run.state === "failed" && run.end_date && now.getTime() - run.end_date.getTime() >= ttlMs)
    return { remove: true, why: `its run failed more than ${ttlMs / 1000}s ago` };
  return { remove: false, why: "" };
}

export function buildStagingPvc(run: StagingRun, size: string, settings: StagingSettings): V1PersistentVolumeClaim {
  const { team, dagId, runId } = run;
  const bytes = parseMemoryBytes(size);
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: stagingPvcName(team, dagId, runId, settings.instance),
      namespace: settings.namespace,
      labels: {
        [LABEL.managedBy]: MANAGED_BY,
        [LABEL.instance]: labelValue(settings.instance),
        [LABEL.staging]: "true",
        [LABEL.dag]: labelValue(dagId),
        [LABEL.run]: labelValue(runId),
      },
      annotations: { [ANNOTATION.team]: team, [ANNOTATION.dag]: dagId, [ANNOTATION.run]: runId },
    },
    spec: {
      accessModes: [settings.stagingAccessMode],
      resources: { requests: { storage: String(bytes ?? size) } },
      ...(settings.stagingStorageClass ? { storageClassName: settings.stagingStorageClass } : {}),
    },
  };
}

export class StagingVolumes {
  /** Whether a DAG version enables staging, and its size: versions never change, so this is never stale. */
  private readonly versions = new Map<number, string | null>();

  constructor(private readonly o: StagingOptions) {}

  /** The run's PVC in `namespace`, created if missing; undefined when the run's DAG does not ask for staging. */
  async ensure(run: StagingRun, namespace: string = this.o.settings.namespace): Promise<string | undefined> {
    const { team, dagId, runId } = run;
    const size = await this.sizeFor(run);
    if (size === null) return undefined;
    const body = buildStagingPvc(run, size, { ...this.o.settings, namespace });
    const name = body.metadata!.name!;
    // Created on every launch of the run (409 = it exists): cheap, and right after a GC on another replica.
    try {
      await this.o.kube.inNamespace(namespace).createPvc(body);
      this.o.logger.info("created staging volume", { pvc: name, namespace, team, dag_id: dagId, run_id: runId, size });
    } catch (e) {
      if (!(e instanceof KubeError && e.status === 409))
        throw new KubeError(`staging volume for run ${runId} of ${dagId}: ${errorMessage(e)}`, (e as KubeError).status ?? 0);
    }
    // Recorded after the create, also when it existed: a replica may have died between the two.
    await this.o.store.recordStagingVolume({ executor: STAGING_EXECUTOR, team, name, dag_id: dagId, run_id: runId }, new Date());
    return name;
  }

  /** One GC pass over every namespace PVCs may be in; returns how many PVCs were deleted. */
  async collect(now: Date): Promise<number> {
    const { kube, store, settings } = this.o;
    const namespaces = [...new Set([settings.namespace, ...((await this.o.extraNamespaces?.()) ?? [])])];
    let removed = 0;
    for (const namespace of namespaces)
      for (const pvc of await kube
        .inNamespace(namespace)
        .listPvcs(`${LABEL.managedBy}=${MANAGED_BY},${LABEL.instance}=${labelValue(settings.instance)},${LABEL.staging}=true`)) {
        const name = pvc.metadata?.name;
        if (!name || pvc.metadata?.deletionTimestamp) continue;
        const team = pvc.metadata?.annotations?.[ANNOTATION.team] ?? DEFAULT_TEAM;
        const dagId = pvc.metadata?.annotations?.[ANNOTATION.dag];
        const runId = pvc.metadata?.annotations?.[ANNOTATION.run];
        const run = dagId && runId ? await store.getDagRun(team, dagId, runId) : null;
        const decision = stagingGcDecision(run, now, this.o.ttlMs);
        if (!decision.remove) continue;
        await this.remove([namespace], name, dagId ?? null, runId ?? null, decision.why, now);
        removed++;
      }
    // Recorded volumes of runs that are gone, whatever their labels say now; the record does not say which
    // namespace, so each is deleted wherever it may be (a 404 on delete is fine).
    for (const v of await store.listOrphanStagingVolumes(STAGING_EXECUTOR)) {
      await this.remove(namespaces, v.name, v.dag_id, v.run_id, stagingGcDecision(null, now, this.o.ttlMs).why, now);
      removed++;
    }
    return removed;
  }

  private async remove(
    namespaces: string[],
    name: string,
    dagId: string | null,
    runId: string | null,
    why: string,
    now: Date,
  ): Promise<void> {
    for (const namespace of namespaces) await this.o.kube.inNamespace(namespace).deletePvc(name);
    await this.o.store.markStagingVolumeDeleted(STAGING_EXECUTOR, name, why, now);
    this.o.logger.info("removed staging volume", { pvc: name, dag_id: dagId, run_id: runId, why });
  }

  private async sizeFor({ team, dagId, runId }: StagingRun): Promise<string | null> {
    const run = await this.o.store.getDagRun(team, dagId, runId);
    if (!run) return null;
    let size = this.versions.get(run.version_id);
    if (size === undefined) {
      const staging = (await this.o.store.getDagVersion(run.version_id))?.staging;
      size = staging?.enabled ? (staging.size ?? this.o.settings.stagingSize) : null;
      this.versions.set(run.version_id, size);
    }
    return size;
  }
}
