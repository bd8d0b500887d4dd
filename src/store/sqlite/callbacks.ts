/** Callback runner state on SQLite (CallbackStore; the Postgres twin is postgres/callbacks.ts). */
import type { Database } from "bun:sqlite";

export function getCallbackCursor(db: Database, name: string): number | null {
  const row = db.query<{ last_event_id: number }, [string]>("SELECT last_event_id FROM callback_cursors WHERE name = ?").get(name);
  return row?.last_event_id ?? null;
}

export function saveCallbackCursor(db: Database, name: string, lastEventId: number, now: Date): void {
  db.query(
    `INSERT INTO callback_cursors (name, last_event_id, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET last_event_id = excluded.last_event_id, updated_at = excluded.updated_at
     WHERE excluded.last_event_id > callback_cursors.last_event_id`,
  ).run(name, lastEventId, now.getTime());
}

export function claimDeadlineAlert(db: Database, dagRunId: number, now: Date): boolean {
  return (
    db.query("INSERT INTO deadline_alerts (dag_run_id, fired_at) VALUES (?, ?) ON CONFLICT DO NOTHING").run(dagRunId, now.getTime())
      .changes > 0
  );
}
