/** The scheduler leader's heartbeat on SQLite (SchedulerHeartbeatStore; the Postgres twin is postgres/scheduler-heartbeat.ts). */
import type { Database } from "bun:sqlite";

export function recordSchedulerHeartbeat(db: Database, replica: string, at: Date): void {
  db.query(
    `INSERT INTO scheduler_heartbeat (id, replica, at) VALUES (1, ?, ?)
     ON CONFLICT (id) DO UPDATE SET replica = excluded.replica, at = excluded.at WHERE excluded.at > scheduler_heartbeat.at`,
  ).run(replica, at.getTime());
}

export function latestSchedulerHeartbeat(db: Database): { replica: string; at: Date } | null {
  const row = db.query<{ replica: string; at: number }, []>("SELECT replica, at FROM scheduler_heartbeat WHERE id = 1").get();
  return row ? { replica: row.replica, at: new Date(row.at) } : null;
}
