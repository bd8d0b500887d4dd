/** RecordLookups: one record by its key. Nearly every part of the server reads these; each takes what it needs. */
import type { DagRecord, DagRunRecord, DagSpec, TaskInstanceRecord } from "../../domain";

export interface RecordLookups {
  getDag(dagId: string): Promise<DagRecord | null>;
  /** The spec a run was created with (runs pin their version). */
  getDagVersion(versionId: number): Promise<DagSpec | null>;
  getDagRun(dagId: string, runId: string): Promise<DagRunRecord | null>;
  getDagRunById(id: number): Promise<DagRunRecord | null>;
  getTaskInstance(dagId: string, runId: string, taskId: string): Promise<TaskInstanceRecord | null>;
  getTaskInstanceById(id: number): Promise<TaskInstanceRecord | null>;
}
