/** Callback runner state on Postgres (CallbackStore; the SQLite twin is sqlite/callbacks.ts). */
import { query, type Pool } from "./client";

export async function getCallbackCursor(sql: Pool, name: string): Promise<number | null> {
  const rows = await query<{ last_event_id: string }>(sql, "SELECT last_event_id FROM callback_cursors WHERE name = $1", [name]);
  return rows[0] ? Number(rows[0].last_event_id) : null;
}

export async function saveCallbackCursor(sql: Pool, name: string, lastEventId: number, now: Date): Promise<void> {
  await query(
    sql,
    `INSERT INTO callback_cursors (name, last_event_id, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET last_event_id = excluded.last_event_id, updated_at = excluded.updated_at
     WHERE excluded.last_event_id > callback_cursors.last_event_id`,
    [name, lastEventId, now],
  );
}

export async function claimDeadlineAlert(sql: Pool, dagRunId: number, now: Date): Promise<boolean> {
  const rows = await query(
    sql,
    "INSERT INTO deadline_alerts (dag_run_id, fired_at) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING dag_run_id",
    [dagRunId, now],
  );
  return rows.length > 0;
}
