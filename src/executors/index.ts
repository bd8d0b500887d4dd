/** Executors: the interface, the router and the concrete executors. */
export type { ExecutorRequest, Executor } from "./executor";
export { Router } from "./router";
export { SubprocessExecutor, type AgentExit, type SubprocessExecutorOptions } from "./subprocess";
export { agentsToRetire, restartDelayMs } from "./subprocess-pool-rules";
// The container executors: their pure rules here; their clients, executors and reconcilers (with the
// Kubernetes client behind them) load only when --executor names one, through the loaders below, so a
// subprocess server never evaluates them on its way to /health. Code that builds one directly imports
// "./docker" or "./kubernetes".
export {
  dockerInstanceId,
  PULL_POLICIES,
  AGENT_PATH_IN_CONTAINER,
  STAGING_MOUNT,
  LABEL,
  type PullPolicy,
  type DockerSettings,
  type DockerPolicy,
} from "./docker/settings";
export { parseMemoryBytes, parseNanoCpus, formatBytes } from "./docker/quantities";
export {
  buildContainerSpec,
  containerName,
  stagingVolumeName,
  resourceLimits,
  type ContainerCreateBody,
  type ContainerSpecOptions,
} from "./docker/container-spec";
export { runsInDocker, checkDockerPolicy, imageAllowed, type PolicyIssue } from "./docker/policy";
export { demuxLogLines } from "./docker/log-stream";
export { decideContainer, exitReason, decideStagingVolume, type ContainerFacts, type TaskInstanceFacts } from "./docker/reconcile-rules";
export type {
  DockerClient,
  DockerApiError,
  DockerUnreachableError,
  ContainerInspect,
  ContainerSummary,
  DockerExecutor,
  DockerExecutorOptions,
  DockerReconciler,
  DockerReconcilerOptions,
  DockerReconcilerPort,
  ReconcileReport,
  DockerExecution,
  DockerSetupOptions,
  DockerSetupPort,
} from "./docker";
/** The docker executor's setup (client, executor, reconciler), loaded when the server runs with --executor docker. */
export const loadDockerSetup = () => import("./docker/setup");
/** The kubernetes executor's setup, loaded when the server runs with --executor kubernetes. */
export const loadKubernetesSetup = () => import("./kubernetes/setup");
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
export { TaskLog, attemptLine, failedLine, requestLine, storingLine, type TaskLogPort } from "./inline-task-log";
export { httpTemplateTexts, loadConnection } from "./inline-context";
export { buildHttpCall, baseUrl, plainHttpCall, safeUrl, safeText, type BuiltCall } from "./inline-request";
export { registerInlineMetrics } from "./inline-metrics";
export { stopProcessGroup, groupAlive, parseProcStat } from "./process-group";
export { checkKubernetesPolicy, runsInKubernetes } from "./kubernetes/admit";
export { parseNodeSelector, parseTolerations, parseRunAs, AGENT_BINARY_IN_IMAGE } from "./kubernetes/settings";
export type { KubernetesExecution, KubernetesSetupOptions } from "./kubernetes";
export { failLiveTry, type FailLiveTryPort } from "./fail-live-try";
export { SensorChecks, fileExists, type SensorCheckPort } from "./sensor-checks";
export { valueAt } from "./sensor-http";
export { truthy } from "./sensor-sql";
