/** Staging-volume records on SQLite (StagingVolumeStore; the Postgres twin is postgres/staging.ts). */
import type { Database } from "bun:sqlite";
import type { NewStagingVolume, StagingVolumeRecord } from "../ports/staging";

interface Row {
  executor: string;
  team: string;
  name: string;
  dag_id: string;
  run_id: string;
  created_at: number;
  deleted_at: number | null;
  delete_reason: string | null;
}

const COLUMNS = "v.executor, v.team, v.name, v.dag_id, v.run_id, v.created_at, v.deleted_at, v.delete_reason";

function toRecord(r: Row): StagingVolumeRecord {
  return { ...r, created_at: new Date(r.created_at), deleted_at: r.deleted_at === null ? null : new Date(r.deleted_at) };
}

export function recordStagingVolume(db: Database, v: NewStagingVolume, now: Date): boolean {
  return (
    db
      .query(
        `INSERT INTO staging_volumes (executor, team, name, dag_id, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (executor, name) WHERE deleted_at IS NULL DO NOTHING`,
      )
      .run(v.executor, v.team, v.name, v.dag_id, v.run_id, now.getTime()).changes > 0
  );
}

export function markStagingVolumeDeleted(db: Database, executor: string, name: string, reason: string, now: Date): boolean {
  return (
    db
      .query("UPDATE staging_volumes SET deleted_at = ?, delete_reason = ? WHERE executor = ? AND name = ? AND deleted_at IS NULL")
      .run(now.getTime(), reason, executor, name).changes > 0
  );
}

export function listStagingVolumes(db: Database, executor: string, liveOnly: boolean): StagingVolumeRecord[] {
  const rows = db
    .query(`SELECT ${COLUMNS} FROM staging_volumes v WHERE v.executor = ? ${liveOnly ? "AND v.deleted_at IS NULL" : ""} ORDER BY v.id`)
    .all(executor) as Row[];
  return rows.map(toRecord);
}

export function listOrphanStagingVolumes(db: Database, executor: string): StagingVolumeRecord[] {
  const rows = db
    .query(
      `SELECT ${COLUMNS} FROM staging_volumes v
       WHERE v.executor = ? AND v.deleted_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM dag_runs r WHERE r.team = v.team AND r.dag_id = v.dag_id AND r.run_id = v.run_id)
       ORDER BY v.id`,
    )
    .all(executor) as Row[];
  return rows.map(toRecord);
}
