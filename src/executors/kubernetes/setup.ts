/**
 * createKubernetesExecution: everything `serve --executor=kubernetes` needs, built from the operator's
 * settings — the API client, the executor, its reconciler, staging volumes, and the DAG admission check the
 * DAG folder sync applies at load. The composition root (app.ts) calls this; nothing here reads flags.
 */
import type { DagSpec } from "../../domain";
import { errorMessage } from "../../domain";
import type { Logger } from "../../observability";
import type { PolicyIssue } from "../docker/policy";
import { checkKubernetesPolicy } from "./admit";
import { KubernetesExecutor } from "./executor";
import { KubernetesReconciler, type ReconcilerStorePort } from "./reconciler";
import type { KubernetesPolicy, KubernetesSettings } from "./settings";
import { StagingVolumes, type StagingStorePort } from "./staging";

export interface KubernetesSetupOptions {
  /** `namespace` "" takes the kubeconfig context's (or the pod's) namespace. */
  settings: KubernetesSettings;
  policy: KubernetesPolicy;
  kubeconfig?: string;
  store: ReconcilerStorePort & StagingStorePort;
  logger: Logger;
  /** Longest one API call may take. */
  callTimeoutMs: number;
  removeGraceMs: number;
  pendingLimitMs: number;
  resyncMs: number;
  stagingTtlMs: number;
  stagingAccessMode: string;
  /** Whether this replica leads (the reconciler acts only then). */
  isLeader?: () => boolean;
  onTaskFailed?: (dagRunId: number) => void;
  /** The namespaces teams' executor policies name: their pods, Secrets and PVCs are reconciled there too. */
  extraNamespaces?: () => Promise<string[]>;
}

export interface KubernetesExecution {
  executor: KubernetesExecutor;
  reconciler: KubernetesReconciler;
  admit(spec: DagSpec): PolicyIssue[];
  /** Checks the API server (an unreachable one is logged, not fatal) and starts the reconciler. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function createKubernetesExecution(o: KubernetesSetupOptions): Promise<KubernetesExecution> {
  // Loaded here, not at start: @kubernetes/client-node costs every other mode a few hundred ms otherwise.
  const { KubeClient } = await import("./client");
  const kube = KubeClient.fromConfig({ kubeconfig: o.kubeconfig, namespace: o.settings.namespace, timeoutMs: o.callTimeoutMs });
  const settings: KubernetesSettings = { ...o.settings, namespace: kube.namespace };
  const staging = new StagingVolumes({
    kube,
    store: o.store,
    settings: { ...settings, stagingAccessMode: o.stagingAccessMode },
    logger: o.logger.child("staging"),
    ttlMs: o.stagingTtlMs,
    extraNamespaces: o.extraNamespaces,
  });
  const executor = new KubernetesExecutor({
    kube,
    settings,
    logger: o.logger,
    stagingFor: (req, namespace) => staging.ensure(req, namespace),
    extraNamespaces: o.extraNamespaces,
  });
  const reconciler = new KubernetesReconciler({
    kube,
    store: o.store,
    logger: o.logger.child("reconciler"),
    instance: settings.instance,
    deletePod: (name, namespace) => executor.deletePodAndSecret(name, namespace),
    extraNamespaces: o.extraNamespaces,
    graceMs: o.removeGraceMs,
    pendingLimitMs: o.pendingLimitMs,
    isLeader: o.isLeader,
    staging,
    onTaskFailed: o.onTaskFailed,
  });
  return {
    executor,
    reconciler,
    admit: (spec) => checkKubernetesPolicy(spec, o.policy, settings, "kubernetes"),
    async start() {
      try {
        await kube.listPods(`leoflow.io/instance=${settings.instance}`);
        o.logger.info("kubernetes executor ready", {
          server: kube.server,
          namespace: kube.namespace,
          agent_image: settings.agentImage,
          service_account: settings.serviceAccount || "namespace default",
          // Pods are named lf-<instance>-… and labelled leoflow.io/instance=<instance>.
          instance: settings.instance,
        });
      } catch (e) {
        o.logger.error("kubernetes executor: " + errorMessage(e) + "; tasks fail to dispatch until it answers");
      }
      reconciler.start(o.resyncMs);
    },
    stop: () => reconciler.stop(),
  };
}
