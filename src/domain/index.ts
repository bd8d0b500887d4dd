/** The pure domain: states, transitions, trigger rules, schedules, errors (the DAG schema and parser: ./schemas). No I/O. */
export {
  TASK_STATES,
  DAG_RUN_STATES,
  isTerminalTaskState,
  isTerminalDagRunState,
  stateTally,
  type TaskState,
  type DagRunState,
} from "./states";
export {
  LeoflowError,
  NotFoundError,
  ConflictError,
  ValidationError,
  IllegalTransitionError,
  TooLargeError,
  errorMessage,
  toError,
} from "./errors";
// The zod schemas and the DAG parser are ./schemas (the DAG loader, the SDK and the API import it): nothing
// here evaluates zod, which the server's start-up path reaches through this index (startup-graph.test.ts).
// Types from the schema modules are `export type` so that re-exporting them loads nothing.
export type { HttpRequestSpec, Operator, TaskSpec, DagSpec } from "./dag-spec";
export { TASK_DEFAULTS } from "./task-defaults";
// Loads its validator (ajv) with require() on first use: nothing is evaluated on the start-up path.
export {
  PARAM_TYPES,
  paramHasDefault,
  paramIsRequired,
  paramValueProblem,
  type ParamInput,
  type ParamSpec,
  type ParamType,
} from "./param-schema";
export { isCompiledMain } from "./compiled-binary";
export {
  SENSOR_KINDS,
  DEFAULT_SENSOR_TIMEOUT_SECONDS,
  MIN_POKE_INTERVAL_SECONDS,
  isAgentSensor,
  type SensorKind,
  type SensorCheckContext,
} from "./sensor-kinds";
export type { SensorSpec, AgentSensor, ControlPlaneSensor } from "./sensor-spec";
export { admitSensorFileRoots, normalizeSensorPath, sensorFileRootProblem } from "./sensor-file-roots";
export {
  sensorTiming,
  pokeDelaySeconds,
  afterCheck,
  waitingNote,
  rescheduleProgress,
  type SensorTiming,
  type SensorOutcome,
  type SensorTaskFields,
} from "./sensor-timing";
export { TRIGGER_RULES, type TriggerRule } from "./trigger-rule-names";
export { cronExpression, validateSchedule } from "./schedule";
export { canTransition, canTransitionDagRun, assertTransition, assertDagRunTransition, failedTryState, transitioned } from "./transitions";
export { evaluateTriggerRule, type TriggerDecision } from "./trigger-rules";
export { isSensitiveName, redactJson, redactUrl, MASK } from "./secrets";
export {
  parseEnvFromRef,
  envFromProblems,
  connectionUri,
  connectionField,
  connectionSecrets,
  variableSecrets,
  CONNECTION_FIELDS,
  type ConnectionField,
  type EnvFromRef,
  type TaskConnection,
} from "./env-from";
export {
  renderString,
  renderJson,
  evaluate,
  templateNeeds,
  templateParams,
  templateSyntaxProblems,
  candidateKeys,
  TemplateError,
  type TemplateContext,
  type TemplateNeeds,
} from "./templates";
export {
  loadTemplateContext,
  loadTemplateValues,
  taskConnectionOf,
  type TemplateLookups,
  type TemplateSourcePort,
  type TemplateValues,
} from "./template-values";
export { renderTaskFields, taskTemplateProblems, taskTemplateTexts } from "./task-templates";
export { renderedFields, renderedFieldTexts } from "./rendered-fields";
export { fnv1a32 } from "./fnv1a";
export { built, lazySchema } from "./lazy-schema";
export { findJsonProblem, assertStorableJson, assertStorableText, storableText, type JsonCheckOptions } from "./json-safety";
export { backfillSkipReason } from "./backfill-skip";
export {
  isServerOwned,
  parsePassthrough,
  matchesPassthrough,
  inheritedTaskEnv,
  passthroughEnv,
  agentLaunchEnv,
  userProcessEnv,
  AGENT_SETTINGS_ENV,
} from "./task-env";
export { parseSecretsKey, SECRETS_KEY_BYTES, SECRETS_KEY_HINT, SecretsKeyError } from "./secrets-key";
export type {
  RunType,
  DagRecord,
  ImportErrorRecord,
  DagRunRecord,
  TaskInstanceRecord,
  TaskInstancePatch,
  TaskTransition,
  NewDagRun,
  RunSnapshot,
  ListOptions,
  DagRunFilter,
  TaskInstanceFilter,
  XComFilter,
  TimeRange,
  NumberRange,
  DagRunDateField,
  LogLineRecord,
  XComRecord,
  XComKey,
  UserRecord,
  Page,
  VariableRecord,
  ConnectionRecord,
  SecretRewrite,
  TeamOwned,
  ScheduledDag,
  RunGates,
  DagRef,
  ActiveTaskCounts,
  TeamUsage,
  ReprocessBehavior,
  BackfillSkips,
  BackfillRecord,
  NewBackfill,
  PoolOccupancy,
  PoolRecord,
  PoolInput,
  TaskClear,
  RunStateChange,
  OperatorChange,
  OperatorChangeApplied,
  TaskUserNote,
  TaskNoteUpdate,
  PreviousRunStates,
  EventLogRow,
  ReapTaskCandidate,
  OrphanCandidate,
  TaskReap,
  DispatchBackoff,
} from "./records";
export { occupiedSlots } from "./records";
export { renderWaitReason, type TeamQuota, type WaitReason, type WaitReasonKind } from "./wait-reason";
export {
  planBulkAction,
  bulkKeys,
  VARIABLE_NOUN,
  CONNECTION_NOUN,
  POOL_NOUN,
  type BulkAction,
  type BulkActionResult,
  type BulkNoun,
  type BulkPlan,
  type BulkOnExistence,
  type BulkOnNonExistence,
} from "./bulk";
export type { AuditLogEntry, AuditLogRecord, AuditLogFilter } from "./audit-log";
export { DEFAULT_TEAM, runKey, teamKey, teamNameProblem, type ExecutorPolicy, type TeamRecord, type TeamInput } from "./teams";
export { parseTeamFolders, type DagsFolderLayout, type TeamFolder, type TeamFoldersResult } from "./team-folders";
export {
  CONTAINER_EXECUTORS,
  executorPolicyProblems,
  imageMatches,
  policyViolations,
  type TaskDefaults,
} from "./executor-policy";
export { formatBytes, formatCpus, parseMemoryBytes, parseNanoCpus } from "./quantities";
export {
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_DELIVERY_STATES,
  ANY_WEBHOOK_EVENT,
  DEFAULT_WEBHOOK_RETRY,
  afterFailedAttempt,
  webhookWants,
  validateWebhookInput,
  type WebhookEventType,
  type WebhookRecord,
  type WebhookInput,
  type WebhookPatch,
  type WebhookDeliveryState,
  type WebhookDeliveryRecord,
  type ClaimedWebhookDelivery,
  type WebhookAttemptOutcome,
  type WebhookRetryPolicy,
  type StoredWebhookSecret,
  type WebhookPruneCutoffs,
  DEAD_WEBHOOK_RETENTION_FACTOR,
  DEFAULT_WEBHOOK_RETENTION_S,
  webhookPruneCutoffs,
} from "./webhooks";
export {
  expandTask,
  mappedValues,
  mappingRefs,
  mappingUpstreams,
  isMapped,
  sourceKey,
  jsonTypeName,
  DEFAULT_MAX_MAP_LENGTH,
  type Expansion,
  type XComRef,
  type MappingFields,
} from "./mapping";
export { pullXCom, loadMappingSources, loadMappedArgs, type XComPullPort } from "./mapped-pull";
export { appendToTryLog, type TryLogPort } from "./try-log";
export { CALLBACK_KINDS, TS_CALLBACK, callbackList, type CallbackKind } from "./callback-kinds";
export type { CallbackSpec, DeadlineSpec } from "./callback-spec";
export {
  deadlineAt,
  hasTaskCallbacks,
  selectCallbacks,
  TASK_CALLBACK_STATES,
  type CallbackTrigger,
  type SelectedCallback,
} from "./callbacks";
export { taskOfSpec, downstreamOfSpec } from "./task-lookup";
export { isLoopback, isLoopbackPeer, localServerUrl } from "./loopback";
export {
  summarizeTaskInstances,
  MAPPED_PRECEDENCE,
  type MappedStateGroup,
  type TaskInstanceSummary,
  type TaskInstanceSummarySource,
} from "./task-summaries";
