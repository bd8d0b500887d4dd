/** The Docker executor: engine client, container spec (pure), DAG policy (pure), executor and reconciler. */
export * from "./settings";
export * from "./quantities";
export * from "./container-spec";
export * from "./policy";
export * from "./log-stream";
export * from "./reconcile-rules";
export { DockerClient, DockerApiError, DockerUnreachableError, splitImage, type ContainerInspect, type ContainerSummary } from "./client";
export { DockerExecutor, type DockerExecutorOptions } from "./executor";
export { DockerReconciler, containerFacts, type DockerReconcilerOptions, type ReconcileReport } from "./reconciler";
export { createDockerExecution, type DockerExecution, type DockerSetupOptions } from "./setup";
