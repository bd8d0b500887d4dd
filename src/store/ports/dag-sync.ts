/**
 * DagSyncStore: what syncing a team's DAGs folder writes — parsed DAGs, the files that no longer define them,
 * import errors. Every method acts inside one team: a folder is synced into its team only.
 */
import type { DagRecord, DagSpec } from "../../domain";
import type { DagsApiStore } from "./api";
import type { RecordLookups } from "./lookups";

/**
 * `findDags` and `listImportErrors` (read): a whole scan finds the team's DAGs and import errors whose files are
 * gone from its folder (deleted while no server ran, or left under another --dags-folder path) and retires them.
 */
export interface DagSyncStore extends Pick<RecordLookups, "getDag">, Pick<DagsApiStore, "findDags" | "listImportErrors"> {
  /**
   * Records a parsed DAG of `team`. A new spec (by content) creates a new version; an unchanged one only bumps
   * last_parsed_at. A DAG seen for the first time is paused iff `pausedOnCreate`.
   */
  upsertDag(team: string, input: { spec: DagSpec; fileloc: string; pausedOnCreate: boolean; now: Date }): Promise<DagRecord>;
  /** Marks inactive every DAG of `team` from `fileloc` not in `keepDagIds` (file changed or deleted). */
  deactivateDagsOfFile(team: string, fileloc: string, keepDagIds: string[]): Promise<void>;
  /** Replaces the team's import errors of the file by `errors`, one row each, in one transaction (none: the file parsed). */
  replaceImportErrors(team: string, filename: string, errors: string[], now: Date): Promise<void>;
  /**
   * Creates the team with default settings (no quotas, no executor policy) and its `default_pool` (128
   * slots) when either is missing; true when the team was created. Used at start for the teams that DAG
   * folders name (folders are configuration).
   */
  ensureTeam(team: string, now: Date): Promise<boolean>;
}
