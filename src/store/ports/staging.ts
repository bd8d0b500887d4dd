/**
 * StagingVolumeStore: the record of each run's staging volume (a Kubernetes PVC; the `executor` column leaves
 * room for the Docker executor's volumes). The executor records a volume when it creates it and each deletion
 * with its reason; GC asks for live volumes whose run no longer exists.
 */

export interface StagingVolumeRecord {
  executor: string;
  /** The team of the run the volume serves (domain/teams.ts). */
  team: string;
  name: string;
  dag_id: string;
  run_id: string;
  created_at: Date;
  /** Null while the volume is live. */
  deleted_at: Date | null;
  delete_reason: string | null;
}

export type NewStagingVolume = Pick<StagingVolumeRecord, "executor" | "team" | "name" | "dag_id" | "run_id">;

export interface StagingVolumeStore {
  /**
   * Records that a volume is live; true when this call recorded it, false when it was already recorded live
   * (every launch of a run ensures its volume, so this is called again and again). After a deletion the same
   * name is recorded anew.
   */
  recordStagingVolume(volume: NewStagingVolume, now: Date): Promise<boolean>;
  /** Marks the live record of `name` deleted, with why; false when none was live. */
  markStagingVolumeDeleted(executor: string, name: string, reason: string, now: Date): Promise<boolean>;
  /** Every record of the executor's volumes (live and deleted), oldest first; `liveOnly` keeps the live ones. */
  listStagingVolumes(executor: string, opts?: { liveOnly?: boolean }): Promise<StagingVolumeRecord[]>;
  /** Live records whose DAG run (of the record's team) no longer exists (deleted with its DAG or by hand), oldest first. */
  listOrphanStagingVolumes(executor: string): Promise<StagingVolumeRecord[]>;
}
