/**
 * The shared lifecycle event log on Postgres, a batch to a row (event-batches.ts): every replica appends,
 * every replica reads after the last id it saw. Appends are serialized by an advisory lock held until their
 * commit, so ids commit in increasing order: without it a reader could see id 11 committed before id 10 and
 * skip 10 for good. Reads take no lock.
 */
import type { EventLogRow } from "../../domain";
import type { EventAppendNotice } from "../ports/event-log";
import { eventRuns, EVENTS_PER_ROW, eventsFrom, pruneBound, readEventRange, type StoredEventRow } from "../event-batches";
import { execute, pgErrorCode, query, type Pool } from "./client";

/** SQLSTATE 54000: what a commit whose NOTIFY finds the notification queue full fails with. */
const PG_PROGRAM_LIMIT_EXCEEDED = "54000";

/** First key of the append lock ("Leoe"); the second is the schema's hash, so deployments do not wait on each other. */
export const EVENT_APPEND_LOCK_KEY = 0x4c656f65;

/**
 * The append's statement over its rows ($4 … $7: offset, count, team, events JSON): the lock is taken before any
 * id is drawn and held to commit, and the ids are drawn as one range (appendEvents). $8 / $9: the notice's channel
 * and origin (EventAppendNotice), or nulls: the row holding the newest id sends `<origin>:<id>` on the channel,
 * delivered by Postgres with this transaction's commit.
 */
const appendSql = (rows: string) => `WITH locked AS MATERIALIZED (SELECT pg_advisory_xact_lock($1::int, hashtext(current_schema())) AS l),
          base AS MATERIALIZED (SELECT nextval(pg_get_serial_sequence('event_log', 'id')) - 1 AS id FROM locked),
          taken AS MATERIALIZED (SELECT setval(pg_get_serial_sequence('event_log', 'id'), base.id + $2) - $2 AS base FROM base),
          appended AS (
     INSERT INTO event_log_batches (first_id, last_id, team, events, created_at)
     SELECT taken.base + u.o + 1, taken.base + u.o + u.n, u.team, u.events, $3
     FROM taken, ${rows}
     RETURNING first_id, last_id)
   SELECT first_id, CASE WHEN $8::text IS NOT NULL AND last_id = (SELECT max(last_id) FROM appended)
     THEN pg_notify($8::text, $9::text || ':' || last_id)::text END AS notified
   FROM appended`;
/**
 * A batch of one team's events (the usual case) as plain parameters: as a text[] element the batch's JSON is
 * quoted and escaped by the driver and unescaped by Postgres, every `"` of it (150 events, 35 KB: 1.07 → 0.57 ms
 * a statement, same connection, alternating).
 */
const APPEND_ONE_SQL = appendSql("(SELECT $4::int AS o, $5::int AS n, $6::text AS team, $7::text AS events) u");
const APPEND_MANY_SQL = appendSql("unnest($4::int[], $5::int[], $6::text[], $7::text[]) AS u(o, n, team, events)");

/**
 * One statement (one round trip, its own transaction) per batch; returns the ids given, ascending, in the
 * order of `events`. The append lock is taken before any id is drawn and held to commit, so appends from
 * every replica (this release's and, during a rolling upgrade, the previous one's, which insert into
 * event_log under the same lock) are serialized and ids commit in order. The ids are drawn from event_log's
 * sequence as one range: nextval, then setval past the batch, so a previous release's insert gets the id after.
 * `notice`: the other replicas are told in the same statement; a NOTIFY of its own was a second commit (and WAL
 * flush) after every append, beside a Pro leader's inline hops (EventAppendNotice).
 */
export async function appendEvents(sql: Pool, events: Record<string, unknown>[], now: Date, notice?: EventAppendNotice): Promise<number[]> {
  if (events.length === 0) return [];
  const runs = eventRuns(events);
  const one = runs.length === 1 ? runs[0]! : null;
  const append = (told: EventAppendNotice | undefined) => {
    const tail = [told?.channel ?? null, told?.origin ?? null];
    return query<{ first_id: number }>(
      sql,
      one ? APPEND_ONE_SQL : APPEND_MANY_SQL,
      one
        ? [EVENT_APPEND_LOCK_KEY, events.length, now, one.offset, one.count, one.team, one.events, ...tail]
        : [
            EVENT_APPEND_LOCK_KEY,
            events.length,
            now,
            runs.map((r) => r.offset),
            runs.map((r) => r.count),
            runs.map((r) => r.team),
            runs.map((r) => r.events),
            ...tail,
          ],
    );
  };
  let rows: { first_id: number }[];
  try {
    rows = await append(notice);
  } catch (e) {
    // A NOTIFY queue full (a listening session that stopped reading: Postgres refuses every NOTIFY at commit)
    // must not cost the events: appended without the notice, the other replicas read them at their next poll.
    if (!notice || pgErrorCode(e) !== PG_PROGRAM_LIMIT_EXCEEDED) throw e;
    rows = await append(undefined);
  }
  const first = Math.min(...rows.map((r) => r.first_id));
  return events.map((_, i) => first + i);
}

/** Every row holding an id in (after, upTo], from both tables, and the first id stored after upTo (event-batches.ts). */
const READ_RANGE = `SELECT first_id, last_id, events AS body, created_at FROM event_log_batches
  WHERE last_id > $1 AND last_id < $2::bigint + $3 AND first_id <= $2
UNION ALL
SELECT id, 0, event, created_at FROM event_log WHERE id > $1 AND id <= $2
UNION ALL
SELECT least((SELECT first_id FROM event_log_batches WHERE last_id > $2 AND first_id > $2 ORDER BY last_id LIMIT 1),
             (SELECT id FROM event_log WHERE id > $2 ORDER BY id LIMIT 1)), -1, NULL, NULL`;

/** Events with id > afterId, in id order, at most `limit`. */
export async function readEventsAfter(sql: Pool, afterId: number, limit: number): Promise<EventLogRow[]> {
  return readEventRange((after, upTo) => query<StoredEventRow>(sql, READ_RANGE, [after, upTo, EVENTS_PER_ROW]), afterId, limit);
}

export async function lastEventId(sql: Pool): Promise<number> {
  const [row] = await query<{ id: number | null }>(
    sql,
    "SELECT greatest((SELECT max(last_id) FROM event_log_batches), (SELECT max(id) FROM event_log)) AS id",
  );
  return row?.id ?? 0;
}

/**
 * Deletes every event older than the first one created at or after `before`, and all but the newest
 * `keepLast`: whole rows below the cut, and the front of the row it falls in (pruneBound). Ids grow with
 * created_at (appends are serialized), so the cut is a range of the keys; the first recent row is found by
 * walking them from the oldest. Returns the events deleted.
 */
export async function pruneEvents(sql: Pool, before: Date, keepLast: number): Promise<number> {
  return (await sql.begin(async (tx) => {
    const [found] = await query<{ top: number | null; first_recent: number | null }>(
      tx,
      `SELECT greatest((SELECT max(last_id) FROM event_log_batches), (SELECT max(id) FROM event_log)) AS top,
              least((SELECT first_id FROM event_log_batches WHERE created_at >= $1 ORDER BY last_id LIMIT 1),
                    (SELECT id FROM event_log WHERE created_at >= $1 ORDER BY id LIMIT 1)) AS first_recent`,
      [before],
    );
    if (!found?.top) return 0;
    const bound = pruneBound(found.top, found.first_recent, keepLast);
    const [gone] = await query<{ n: number }>(
      tx,
      `WITH rows AS (DELETE FROM event_log_batches WHERE last_id < $1 RETURNING last_id - first_id + 1 AS n),
            singles AS (DELETE FROM event_log WHERE id < $1 RETURNING 1)
       SELECT (coalesce((SELECT sum(n) FROM rows), 0) + (SELECT count(*) FROM singles))::int AS n`,
      [bound],
    );
    // The row the cut falls in (ids on both sides of it) keeps its events from the cut on.
    const [cut] = await query<{ first_id: number; last_id: number; body: string }>(
      tx,
      "SELECT first_id, last_id, events AS body FROM event_log_batches WHERE last_id >= $1 AND first_id < $1 ORDER BY last_id LIMIT 1",
      [bound],
    );
    if (!cut) return gone?.n ?? 0;
    await execute(tx, "UPDATE event_log_batches SET first_id = $1, events = $2 WHERE last_id = $3 AND first_id = $4", [
      bound,
      eventsFrom(cut, bound),
      cut.last_id,
      cut.first_id,
    ]);
    return (gone?.n ?? 0) + bound - cut.first_id;
  })) as number;
}
