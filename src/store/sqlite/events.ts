/**
 * The lifecycle event log on SQLite (Lite), a batch to a row (event-batches.ts): the same contract as
 * Postgres. One writer at a time is SQLite's own rule, so ids commit in order without an extra lock.
 */
import type { Database } from "bun:sqlite";
import type { EventLogRow } from "../../domain";
import { eventRuns, EVENTS_PER_ROW, eventsFrom, pruneBound, readEventRange, type StoredEventRow } from "../event-batches";
import { insertRows } from "./insert-rows";

/**
 * One transaction per batch; returns the ids given, ascending, in the order of `events`. The ids follow the
 * newest ever given by either table (AUTOINCREMENT keeps both in sqlite_sequence, whatever retention deleted).
 */
export function appendEvents(db: Database, events: Record<string, unknown>[], now: Date): number[] {
  if (events.length === 0) return [];
  const t = now.getTime();
  return db
    .transaction(() => {
      const { base } = db
        .query("SELECT coalesce(max(seq), 0) AS base FROM sqlite_sequence WHERE name IN ('event_log', 'event_log_batches')")
        .get() as { base: number };
      const rows = eventRuns(events).map((r) => [base + r.offset + r.count, base + r.offset + 1, r.team, r.events, t]);
      insertRows(db, "INSERT INTO event_log_batches (last_id, first_id, team, events, created_at)", 5, rows);
      return events.map((_, i) => base + 1 + i);
    })
    .immediate();
}

/** Every row holding an id in (after, upTo], from both tables, and the first id stored after upTo (event-batches.ts). */
const READ_RANGE = `SELECT first_id, last_id, events AS body, created_at FROM event_log_batches
  WHERE last_id > ?1 AND last_id < ?2 + ?3 AND first_id <= ?2
UNION ALL
SELECT id, 0, event, created_at FROM event_log WHERE id > ?1 AND id <= ?2
UNION ALL
SELECT min(n), -1, NULL, NULL FROM (
  SELECT * FROM (SELECT first_id AS n FROM event_log_batches WHERE last_id > ?2 AND first_id > ?2 ORDER BY last_id LIMIT 1)
  UNION ALL SELECT * FROM (SELECT id FROM event_log WHERE id > ?2 ORDER BY id LIMIT 1))`;

export function readEventsAfter(db: Database, afterId: number, limit: number): Promise<EventLogRow[]> {
  const read = db.query(READ_RANGE);
  return readEventRange(
    async (after, upTo) =>
      (read.all(after, upTo, EVENTS_PER_ROW) as (Omit<StoredEventRow, "created_at"> & { created_at: number | null })[]).map((r) => ({
        ...r,
        created_at: r.created_at === null ? null : new Date(r.created_at),
      })),
    afterId,
    limit,
  );
}

export function lastEventId(db: Database): number {
  const row = db
    .query("SELECT max(coalesce((SELECT max(last_id) FROM event_log_batches), 0), coalesce((SELECT max(id) FROM event_log), 0)) AS id")
    .get() as { id: number };
  return row.id;
}

/** See the Postgres twin: events before the first recent one, and all but the newest `keepLast`. */
export function pruneEvents(db: Database, before: Date, keepLast: number): number {
  return db
    .transaction(() => {
      const top = lastEventId(db);
      if (top === 0) return 0;
      const t = before.getTime();
      const recent = db
        .query(
          `SELECT min(n) AS n FROM (
             SELECT * FROM (SELECT first_id AS n FROM event_log_batches WHERE created_at >= ?1 ORDER BY last_id LIMIT 1)
             UNION ALL SELECT * FROM (SELECT id FROM event_log WHERE created_at >= ?1 ORDER BY id LIMIT 1))`,
        )
        .get(t) as { n: number | null };
      const bound = pruneBound(top, recent.n, keepLast);
      const rows = db.query("SELECT coalesce(sum(last_id - first_id + 1), 0) AS n FROM event_log_batches WHERE last_id < ?").get(bound) as {
        n: number;
      };
      db.query("DELETE FROM event_log_batches WHERE last_id < ?").run(bound);
      let gone = rows.n + db.query("DELETE FROM event_log WHERE id < ?").run(bound).changes;
      // The row the cut falls in (ids on both sides of it) keeps its events from the cut on.
      const cut = db
        .query(
          "SELECT first_id, last_id, events AS body FROM event_log_batches WHERE last_id >= ?1 AND first_id < ?1 ORDER BY last_id LIMIT 1",
        )
        .get(bound) as { first_id: number; last_id: number; body: string } | null;
      if (cut) {
        db.query("UPDATE event_log_batches SET first_id = ?, events = ? WHERE last_id = ?").run(bound, eventsFrom(cut, bound), cut.last_id);
        gone += bound - cut.first_id;
      }
      return gone;
    })
    .immediate();
}
