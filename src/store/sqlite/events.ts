/**
 * The lifecycle event log on SQLite (Lite): the same contract as Postgres. One writer at a time is SQLite's
 * own rule, so ids commit in order without an extra lock.
 */
import type { Database } from "bun:sqlite";
import type { EventLogRow } from "../../domain";
import { eventTeam } from "../event-team";
import { insertRows } from "./insert-rows";

/**
 * One transaction per batch; returns the ids given, ascending, in the order of `events`. Multi-row statements
 * (insert-rows.ts): a fan-out appends three events per task on the server's thread. The batch's rows get
 * consecutive ids (AUTOINCREMENT in a transaction no other connection writes in), so they follow from the last.
 */
export function appendEvents(db: Database, events: Record<string, unknown>[], now: Date): number[] {
  if (events.length === 0) return [];
  const t = now.getTime();
  return db
    .transaction(() => {
      const rows = events.map((e) => [eventTeam(e), JSON.stringify(e), t]);
      const last = insertRows(db, "INSERT INTO event_log (team, event, created_at)", 3, rows);
      return events.map((_, i) => last - events.length + 1 + i);
    })
    .immediate();
}

export function readEventsAfter(db: Database, afterId: number, limit: number): EventLogRow[] {
  const rows = db.query("SELECT id, event, created_at FROM event_log WHERE id > ? ORDER BY id LIMIT ?").all(afterId, limit) as {
    id: number;
    event: string;
    created_at: number;
  }[];
  return rows.map((r) => ({ id: r.id, event: JSON.parse(r.event) as Record<string, unknown>, created_at: new Date(r.created_at) }));
}

export function lastEventId(db: Database): number {
  return (db.query("SELECT max(id) AS id FROM event_log").get() as { id: number | null }).id ?? 0;
}

/** See the Postgres twin: rows before the first recent one, and all but the newest `keepLast`. */
export function pruneEvents(db: Database, before: Date, keepLast: number): number {
  const top = lastEventId(db);
  if (top === 0) return 0;
  const firstRecent =
    (db.query("SELECT id FROM event_log WHERE created_at >= ? ORDER BY id LIMIT 1").get(before.getTime()) as { id: number } | null)?.id ??
    top + 1;
  return db.query("DELETE FROM event_log WHERE id < ?").run(Math.max(firstRecent, top - keepLast + 1)).changes;
}
