/** DagSyncStore: what syncing the DAGs folder writes — parsed DAGs, the files that no longer define them, import errors. */
import type { DagRecord, DagSpec } from "../../domain";
import type { RecordLookups } from "./lookups";

export interface DagSyncStore extends Pick<RecordLookups, "getDag"> {
  /**
   * Records a parsed DAG. A new spec (by content) creates a new version; an unchanged one only bumps
   * last_parsed_at. A DAG seen for the first time is paused iff `pausedOnCreate`.
   */
  upsertDag(input: { spec: DagSpec; fileloc: string; pausedOnCreate: boolean; now: Date }): Promise<DagRecord>;
  /** Marks inactive every DAG of `fileloc` not in `keepDagIds` (file changed or deleted). */
  deactivateDagsOfFile(fileloc: string, keepDagIds: string[]): Promise<void>;
  /** Replaces the file's import errors by `errors`, one row each, in one transaction (none: the file parsed). */
  replaceImportErrors(filename: string, errors: string[], now: Date): Promise<void>;
}
