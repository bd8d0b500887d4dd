/** Persistent state: the Store interface and its implementations. */
export type { Store } from "./store";
export { openStore, sqlitePathOf, splitSchema, type OpenStoreOptions } from "./open";
export { lockSqliteForServer, type ServerLock } from "./sqlite/server-lock";
export { LITE_OWNER_PREFIX, lockPostgresForServer, refuseBesideLiteServer } from "./postgres/server-lock";
export { isStoreUnavailable } from "./unavailable";
export { LEADER_LOCK_ID, leaderLockIdFor } from "./postgres/lock-ids";
export { runMigrations, migrationFromFile, type Migration, type MigrationTarget } from "./migrate";
export { SqliteStore } from "./sqlite";
// The Postgres store as a type only: its code loads when openStore meets a Postgres URL (a SQLite server
// never evaluates it); code that constructs one imports it from "./postgres".
export type { PostgresStore, PostgresStoreOptions } from "./postgres";
// From their own files, not ./postgres: the lock and the channel are light (the driver loads when they connect).
export { PgAdvisoryLock, type AdvisoryLock, type AdvisoryLockOptions, type LockHolderSession } from "./postgres/advisory-lock";
export { PgNotifyChannel, type NotifyChannel, type PgNotifyChannelOptions } from "./postgres/notify";
export { guardedStore } from "./guard";
export { overriding } from "./decorate";
export type { DagHead, RecordLookups } from "./ports/lookups";
export type { SchedulerStore, KnownTaskInstance, ChangeCursor, RunChanges, DagRunStateChange, TickReads } from "./ports/scheduler";
export type { ReaperStore } from "./ports/reaper";
export type { DispatchStore } from "./ports/dispatch";
export type { LogBatch, TaskLogStore } from "./ports/task-log";
export type { AgentRpcStore, TryFinish, TryIdentity, TryLines, TryNext, TryStart, TryStartWrite, TryWrite } from "./ports/agent-rpc";
export type { DagSyncStore } from "./ports/dag-sync";
export type { EventAppendNotice, EventLogStore } from "./ports/event-log";
export type { WebhookStore } from "./ports/webhooks";
export type { MappingStore, TaskExpansion, ActiveTaskKey } from "./ports/mapping";
export type { CallbackStore } from "./ports/callbacks";
export type { SchedulerHeartbeatStore } from "./ports/scheduler-heartbeat";
export type { SigningFingerprintStore, StoredSigningFingerprint } from "./ports/signing-fingerprint";
export type { InlineTryStore, InlineTryEnd, InlineTryEndResult } from "./ports/inline-tries";
export { outcomeAfterXCom } from "./inline-try-outcome";
export type { StagingVolumeStore, StagingVolumeRecord, NewStagingVolume } from "./ports/staging";
export type { SensorStore, DueSensor, SensorWaitUpdate, SensorProgress, RescheduleUpdate } from "./ports/sensors";
export type { UserStore, UserChange, UserChangeResult, TeamRole, SetUserRoleResult } from "./ports/users";
export type { TeamStore, TeamPatch } from "./ports/teams";
export type { SecretsStore } from "./ports/secrets";
export type { ApiStore, DagsApiStore, RunsApiStore, TaskInstancesApiStore } from "./ports/api";
export type { BackfillsApiStore } from "./ports/api-backfills";
export type { PoolsApiStore } from "./ports/api-pools";
export type { DagsQueryStore, DagFilter, DagVersionRecord, DagRunStateCount } from "./ports/api-dags";
export type { VariablesApiStore } from "./ports/api-variables";
export { postgresDriver } from "./postgres/driver";
export { withSecrets, variableIsSecret } from "./secrets";
export { SecretsCipher, SecretUnreadableError, generateSecretsKey, secretsKeyId, isSealed, sealedKeyId } from "./secrets-cipher";
export { rotateSecrets, readStoredSecrets, foreignKeyIds, planRotation, type RotationKeys, type RotationResult } from "./secrets-rotate";
export type { BulkApiStore } from "./ports/api-bulk";
export type { AuditLogStore } from "./ports/audit-log";
