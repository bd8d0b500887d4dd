/** The pure domain: DAG schema, states, transitions, trigger rules, schedules, errors. No I/O. */
export { TASK_STATES, DAG_RUN_STATES, isTerminalTaskState, isTerminalDagRunState, type TaskState, type DagRunState } from "./states";
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
export {
  parseDagSpec,
  RawTaskSchema,
  RawDagSchema,
  TASK_DEFAULTS,
  type HttpRequestSpec,
  type Operator,
  type TaskSpec,
  type DagSpec,
} from "./dag-spec";
export { TRIGGER_RULES, type TriggerRule } from "./trigger-rule-names";
export { cronExpression, validateSchedule } from "./schedule";
export { canTransition, canTransitionDagRun, assertTransition, assertDagRunTransition } from "./transitions";
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
export { fnv1a32 } from "./fnv1a";
export { built, lazySchema } from "./lazy-schema";
export { findJsonProblem, assertStorableJson, assertStorableText, storableText, type JsonCheckOptions } from "./json-safety";
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
  ActiveTaskCounts,
  TeamUsage,
  ReprocessBehavior,
  BackfillSkips,
  BackfillRecord,
  NewBackfill,
  PoolRecord,
  PoolInput,
  TaskClear,
  RunStateChange,
  OperatorChange,
  TaskNoteUpdate,
  PreviousRunStates,
  EventLogRow,
  ReapTaskCandidate,
  OrphanCandidate,
  TaskReap,
  DispatchBackoff,
} from "./records";
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
export { DEFAULT_TEAM, teamKey, teamNameProblem, type ExecutorPolicy, type TeamRecord, type TeamInput } from "./teams";
export { ExecutorPolicySchema, QuotaSchema, TeamFieldsSchema, parseExecutorPolicy } from "./team-input";
export { parseTeamFolders, type DagsFolderLayout, type TeamFolder, type TeamFoldersResult } from "./team-folders";
export {
  CONTAINER_EXECUTORS,
  executorPolicyProblems,
  imageMatches,
  policyViolations,
  type TaskDefaults,
} from "./executor-policy";
export { formatBytes, formatCpus, parseMemoryBytes, parseNanoCpus } from "./quantities";
