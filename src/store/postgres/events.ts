/**
 * The shared lifecycle event log on Postgres: every replica appends, every replica reads after the last id it
 * saw. Appends are serialized by an advisory lock held until their commit, so ids commit in increasing order:
 * without it a reader could see id 11 committed before id 10 and skip 10 for good. Reads take no lock.
 */
import type { EventLogRow } from "../../domain";
import { eventTeam } from "../event-team";
import { jsonText, query, type Pool } from "./client";

/** First key of the append lock ("Leoe"); the second is the schema's hash, so deployments do not wait on each other. */
export const EVENT_APPEND_LOCK_KEY = 0x4c656f65;

/**
 * One statement (one round trip, its own transaction) per batch; returns the ids given, ascending, in the
 * order of `events`. The WHERE takes a transaction-scoped advisory lock while the rows are produced, before
 * any id is drawn, and commit releases it: appends from every replica are serialized, ids commit in order.
 */
export async function appendEvents(sql: Pool, events: Record<string, unknown>[], now: Date): Promise<number[]> {
  if (events.length === 0) return [];
  const rows = await query<{ id: number }>(
    sql,
    `INSERT INTO event_log (team, event, created_at)
     SELECT u.t, u.e, $2 FROM unnest($1::text[], $4::text[]) WITH ORDINALITY AS u(e, t, ord)
     WHERE pg_advisory_xact_lock($3::int, hashtext(current_schema())) IS NOT NULL
     ORDER BY u.ord
     RETURNING id`,
    [events.map(jsonText), now, EVENT_APPEND_LOCK_KEY, events.map(eventTeam)],
  );
  return rows.map((r) => r.id).sort((a, b) => a - b);
}

/** Rows with id > afterId, in id order, at most `limit`. */
export async function readEventsAfter(sql: Pool, afterId: number, limit: number): Promise<EventLogRow[]> {
  const rows = await query<{ id: number; event: string; created_at: Date }>(
    sql,
    "SELECT id, event, created_at FROM event_log WHERE id > $1 ORDER BY id LIMIT $2",
    [afterId, limit],
  );
  return rows.map((r) => ({ id: r.id, event: JSON.parse(r.event) as Record<string, unknown>, created_at: r.created_at }));
}

export async function lastEventId(sql: Pool): Promise<number> {
  const [row] = await query<{ id: number | null }>(sql, "SELECT max(id) AS id FROM event_log");
  return row?.id ?? 0;
}

/**
 * Deletes every row older than the first row created at or after `before`, and every row but the newest
 * `keepLast`. Ids grow with created_at (appends are serialized), so both are a range of the primary key.
 */
export async function pruneEvents(sql: Pool, before: Date, keepLast: number): Promise<number> {
  const [row] = await query<{ n: number }>(
    sql,
    `WITH top AS (SELECT max(id) AS id FROM event_log),
          bound AS (SELECT greatest(
            coalesce((SELECT id FROM event_log WHERE created_at >= $1 ORDER BY id LIMIT 1), (SELECT id + 1 FROM top)),
            (SELECT id FROM top) - $2::bigint + 1) AS id),
          gone AS (DELETE FROM event_log WHERE id < (SELECT id FROM bound) RETURNING 1)
     SELECT count(*) AS n FROM gone`,
    [before, keepLast],
  );
  return row?.n ?? 0;
}
