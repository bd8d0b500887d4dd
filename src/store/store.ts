/**
 * The Store interface: the only door to data. SqliteStore and PostgresStore implement it and pass the same
 * contract suite (test/store/contract.ts); openStore hands them out behind guardedStore, the one place that
 * checks task-instance transitions. The Store is the union of small ports, one per consumer (ports/):
 * each part of the server depends on the port it uses, not on all of it. Rules every implementation keeps:
 * - state changes are conditional (`… WHERE state IN (from)`), so a lost race returns false, never clobbers;
 * - every multi-row change is one transaction;
 * - times are JS Dates (UTC) in and out; JSON columns are parsed objects in and out.
 */
import type { AgentRpcStore } from "./ports/agent-rpc";
import type { ApiStore } from "./ports/api";
import type { DagSyncStore } from "./ports/dag-sync";
import type { DispatchStore } from "./ports/dispatch";
import type { EventLogStore } from "./ports/event-log";
import type { ReaperStore } from "./ports/reaper";
import type { SchedulerStore } from "./ports/scheduler";
import type { SecretsStore } from "./ports/secrets";
import type { StagingVolumeStore } from "./ports/staging";
import type { SensorStore } from "./ports/sensors";
import type { WebhookStore } from "./ports/webhooks";
import type { MappingStore } from "./ports/mapping";
import type { CallbackStore } from "./ports/callbacks";
import type { SchedulerHeartbeatStore } from "./ports/scheduler-heartbeat";
import type { SigningFingerprintStore } from "./ports/signing-fingerprint";
import type { InlineTryStore } from "./ports/inline-tries";

/** Opening and closing: the composition root (app.ts, main.ts, the CLI) is the only caller. */
export interface StoreLifecycle {
  /** Applies pending numbered migrations; safe to call at every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /**
   * When this database was created (its first migration ran), or null before migrate(). Tells a store apart
   * from a reset one at the same URL, e.g. in the docker executor's instance id.
   */
  createdAt(): Promise<Date | null>;
}

export interface Store
  extends StoreLifecycle,
    SchedulerStore,
    ReaperStore,
    DispatchStore,
    AgentRpcStore,
    DagSyncStore,
    ApiStore,
    EventLogStore,
    SecretsStore,
    StagingVolumeStore,
    SensorStore,
    WebhookStore,
    MappingStore,
    CallbackStore,
    SchedulerHeartbeatStore,
    SigningFingerprintStore,
    InlineTryStore {}
