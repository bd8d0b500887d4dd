/**
 * RecordLookups: one record by its key. Nearly every part of the server reads these; each takes what it needs.
 * Lookups by name take the team first (a DAG id, a run id are unique within a team only); lookups by
 * surrogate id are system-wide and return records that carry their team.
 */
import type { DagRecord, DagRunRecord, DagSpec, TaskInstanceRecord } from "../../domain";

/** A DAG's row without its spec (the spec is its current version's: getDagVersion(version_id)). */
export type DagHead = Omit<DagRecord, "spec">;

export interface RecordLookups {
  getDag(team: string, dagId: string): Promise<DagRecord | null>;
  /** getDag without the spec: a large DAG's spec is megabytes, and its version is immutable (version-cache.ts). */
  getDagHead(team: string, dagId: string): Promise<DagHead | null>;
  /** The spec a run was created with (runs pin their version). */
  getDagVersion(versionId: number): Promise<DagSpec | null>;
  getDagRun(team: string, dagId: string, runId: string): Promise<DagRunRecord | null>;
  getDagRunById(id: number): Promise<DagRunRecord | null>;
  /** By natural key; `mapIndex` -1 (the default) is an unmapped task, 0..n-1 a mapped task's instances. */
  getTaskInstance(team: string, dagId: string, runId: string, taskId: string, mapIndex?: number): Promise<TaskInstanceRecord | null>;
  getTaskInstanceById(id: number): Promise<TaskInstanceRecord | null>;
}
