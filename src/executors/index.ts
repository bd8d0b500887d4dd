/** Executors: the interface, the router and the concrete executors. */
export type { ExecutorRequest, Executor } from "./executor";
export { Router } from "./router";
export { SubprocessExecutor, type AgentExit, type SubprocessExecutorOptions } from "./subprocess";
export { agentsToRetire, restartDelayMs } from "./subprocess-pool-rules";
export {
  dockerInstanceId,
  PULL_POLICIES,
  AGENT_PATH_IN_CONTAINER,
  STAGING_MOUNT,
  LABEL,
  parseMemoryBytes,
  parseNanoCpus,
  formatBytes,
  buildContainerSpec,
  containerName,
  stagingVolumeName,
  resourceLimits,
  runsInDocker,
  checkDockerPolicy,
  imageAllowed,
  demuxLogLines,
  decideContainer,
  exitReason,
  decideStagingVolume,
  DockerClient,
  DockerApiError,
  DockerUnreachableError,
  splitImage,
  DockerExecutor,
  DockerReconciler,
  containerFacts,
  createDockerExecution,
  type PullPolicy,
  type DockerSettings,
  type DockerPolicy,
  type ContainerCreateBody,
  type ContainerSpecOptions,
  type PolicyIssue,
  type ContainerFacts,
  type TaskInstanceFacts,
  type ContainerInspect,
  type ContainerSummary,
  type DockerExecutorOptions,
  type DockerReconcilerOptions,
  type DockerReconcilerPort,
  type ReconcileReport,
  type DockerExecution,
  type DockerSetupOptions,
  type DockerSetupPort,
} from "./docker";
export {
  decideAttempt,
  backoffDelayMs,
  parseRetryAfter,
  retryDelayMs,
  DEFAULT_REQUEST_TIMEOUT_SECONDS,
  DEFAULT_HTTP_RETRIES,
  InlineHttpError,
  InlineHttpExecutor,
  type HttpCall,
  type HttpResult,
  type AttemptReport,
  type AttemptOutcome,
  type InlineHttpExecutorOptions,
} from "./inline-http";
export {
  InlineRunner,
  type InlineRunnerOptions,
  type InlineRunnerPort,
  type InlineMetrics,
  type InlineWriteFailures,
} from "./inline-runner";
export {
  INLINE_EXECUTOR_NAME,
  INLINE_HOSTNAME,
  acceptsInline,
  admitInlineTasks,
  finishTransition,
  httpTaskOf,
  inlineDeadline,
  inlineDurationProblem,
  outcomeRetryDelayMs,
  responseValue,
  startTransition,
} from "./inline-rules";
export { TaskLog, attemptLine, failedLine, requestLine, storedLine, type TaskLogPort } from "./inline-task-log";
export { httpTemplateTexts, loadConnection } from "./inline-context";
export { buildHttpCall, baseUrl, safeUrl, safeText, type BuiltCall } from "./inline-request";
export { registerInlineMetrics } from "./inline-metrics";
export { stopProcessGroup, groupAlive, parseProcStat } from "./process-group";
export {
  createKubernetesExecution,
  checkKubernetesPolicy,
  runsInKubernetes,
  parseNodeSelector,
  parseTolerations,
  parseRunAs,
  AGENT_BINARY_IN_IMAGE,
  type KubernetesExecution,
  type KubernetesSetupOptions,
} from "./kubernetes";
export { failLiveTry, type FailLiveTryPort } from "./fail-live-try";
export { SensorChecks, fileExists, type SensorCheckPort } from "./sensor-checks";
export { valueAt } from "./sensor-http";
export { truthy } from "./sensor-sql";
