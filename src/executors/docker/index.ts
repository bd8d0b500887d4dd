/** The Docker executor: engine client, container spec (pure), DAG policy (pure), executor and reconciler. */
export {
  dockerInstanceId,
  PULL_POLICIES,
  AGENT_PATH_IN_CONTAINER,
  STAGING_MOUNT,
  LABEL,
  type PullPolicy,
  type DockerSettings,
  type DockerPolicy,
} from "./settings";
export { parseMemoryBytes, parseNanoCpus, formatBytes } from "./quantities";
export {
  buildContainerSpec,
  containerName,
  stagingVolumeName,
  resourceLimits,
  type ContainerCreateBody,
  type ContainerSpecOptions,
} from "./container-spec";
export { runsInDocker, checkDockerPolicy, imageAllowed, type PolicyIssue } from "./policy";
export { demuxLogLines } from "./log-stream";
export { decideContainer, exitReason, decideStagingVolume, type ContainerFacts, type TaskInstanceFacts } from "./reconcile-rules";
export { DockerClient, DockerApiError, DockerUnreachableError, splitImage, type ContainerInspect, type ContainerSummary } from "./client";
export { DockerExecutor, type DockerExecutorOptions } from "./executor";
export {
  DockerReconciler,
  containerFacts,
  type DockerReconcilerOptions,
  type DockerReconcilerPort,
  type ReconcileReport,
} from "./reconciler";
export { createDockerExecution, type DockerExecution, type DockerSetupOptions, type DockerSetupPort } from "./setup";
