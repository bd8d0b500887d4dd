/** The scheduler leader's heartbeat on Postgres (SchedulerHeartbeatStore; the SQLite twin is sqlite/scheduler-heartbeat.ts). */
import { query, type Pool } from "./client";

export async function recordSchedulerHeartbeat(sql: Pool, replica: string, at: Date): Promise<void> {
  await query(
    sql,
    `INSERT INTO scheduler_heartbeat (id, replica, at) VALUES (1, $1, $2)
     ON CONFLICT (id) DO UPDATE SET replica = excluded.replica, at = excluded.at WHERE excluded.at > scheduler_heartbeat.at`,
    [replica, at],
  );
}

export async function latestSchedulerHeartbeat(sql: Pool): Promise<{ replica: string; at: Date } | null> {
  const [row] = await query<{ replica: string; at: Date }>(sql, "SELECT replica, at FROM scheduler_heartbeat WHERE id = 1", []);
  return row ? { replica: row.replica, at: row.at } : null;
}
