/** The Kubernetes executor: names and pod spec (pure), DAG admission (pure), API client, executor, reconciler, staging. */
export * from "./settings";
export * from "./names";
export * from "./pod";
export * from "./admit";
export * from "./reconcile-rules";
export { KubeError } from "./errors";
export type { KubeClient, KubeClientOptions, WatchEvent } from "./client";
export { KubernetesExecutor, type KubernetesExecutorOptions } from "./executor";
export {
  KubernetesReconciler,
  type KubernetesReconcilerOptions,
  type ReconcilerStorePort,
  type ReconcileReport as KubernetesReconcileReport,
} from "./reconciler";
export { StagingVolumes, buildStagingPvc, stagingGcDecision, type StagingStorePort, type StagingOptions } from "./staging";
export { createKubernetesExecution, type KubernetesExecution, type KubernetesSetupOptions } from "./setup";
