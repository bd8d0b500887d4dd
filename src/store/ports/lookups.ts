/**
 * RecordLookups: one record by its key. Nearly every part of the server reads these; each takes what it needs.
 * Lookups by name take the team first (a DAG id, a run id are unique within a team only); lookups by
 * surrogate id are system-wide and return records that carry their team.
 */
import type { DagRecord, DagRunRecord, DagSpec, TaskInstanceRecord } from "../../domain";

export interface RecordLookups {
  getDag(team: string, dagId: string): Promise<DagRecord | null>;
  /** The spec a run was created with (runs pin their version). */
  getDagVersion(versionId: number): Promise<DagSpec | null>;
  getDagRun(team: string, dagId: string, runId: string): Promise<DagRunRecord | null>;
  getDagRunById(id: number): Promise<DagRunRecord | null>;
  /** By natural key; `mapIndex` -1 (the default) is an unmapped task, 0..n-1 a mapped task's instances. */
  getTaskInstance(team: string, dagId: string, runId: string, taskId: string, mapIndex?: number): Promise<TaskInstanceRecord | null>;
  getTaskInstanceById(id: number): Promise<TaskInstanceRecord | null>;
}
