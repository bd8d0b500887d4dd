/** Staging-volume records on Postgres (StagingVolumeStore; the SQLite twin is sqlite/staging.ts). */
import type { NewStagingVolume, StagingVolumeRecord } from "../ports/staging";
import { query, type Pool } from "./client";

const COLUMNS = "v.executor, v.team, v.name, v.dag_id, v.run_id, v.created_at, v.deleted_at, v.delete_reason";

export async function recordStagingVolume(sql: Pool, v: NewStagingVolume, now: Date): Promise<boolean> {
  const rows = await query(
    sql,
    `INSERT INTO staging_volumes (executor, team, name, dag_id, run_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (executor, name) WHERE deleted_at IS NULL DO NOTHING
     RETURNING id`,
    [v.executor, v.team, v.name, v.dag_id, v.run_id, now],
  );
  return rows.length > 0;
}

export async function markStagingVolumeDeleted(sql: Pool, executor: string, name: string, reason: string, now: Date): Promise<boolean> {
  const rows = await query(
    sql,
    `UPDATE staging_volumes SET deleted_at = $1, delete_reason = $2
     WHERE executor = $3 AND name = $4 AND deleted_at IS NULL RETURNING id`,
    [now, reason, executor, name],
  );
  return rows.length > 0;
}

export async function listStagingVolumes(sql: Pool, executor: string, liveOnly: boolean): Promise<StagingVolumeRecord[]> {
  return query<StagingVolumeRecord>(
    sql,
    `SELECT ${COLUMNS} FROM staging_volumes v WHERE v.executor = $1 ${liveOnly ? "AND v.deleted_at IS NULL" : ""} ORDER BY v.id`,
    [executor],
  );
}

export async function listOrphanStagingVolumes(sql: Pool, executor: string): Promise<StagingVolumeRecord[]> {
  return query<StagingVolumeRecord>(
    sql,
    `SELECT ${COLUMNS} FROM staging_volumes v
     WHERE v.executor = $1 AND v.deleted_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM dag_runs r WHERE r.team = v.team AND r.dag_id = v.dag_id AND r.run_id = v.run_id)
     ORDER BY v.id`,
    [executor],
  );
}
