/**
 * The lifecycle event log a batch to a row, on both stores: an append's events go in as one row per run of
 * consecutive events of one team (`events`: their JSON array), holding the ids first_id..last_id, one per
 * event, in order. A row an event cost a busy Postgres server three inserts (and their key entries) per
 * inline task and its readers a row each to decode. `event_log` keeps the rows written before (and, on
 * Postgres, by replicas of the previous release during a rolling upgrade); the two tables share one id space
 * (Postgres: event_log's sequence; SQLite: after the newest id either table ever held) and readers merge
 * them by id.
 */
import type { EventLogRow } from "../domain";
import { eventTeam } from "./event-team";

/** Events a row holds at most (an append's run of one team is cut into rows of this many). */
export const EVENTS_PER_ROW = 500;

/** One append's events cut into rows: `offset` of the row's first event in the append, and its count. */
export interface EventRun {
  offset: number;
  count: number;
  team: string;
  /** The events as one JSON array. */
  events: string;
}

/** Consecutive events of one team share a row, up to EVENTS_PER_ROW (a team's deletion takes its rows: a row never mixes teams). */
export function eventRuns(events: readonly Record<string, unknown>[]): EventRun[] {
  const runs: EventRun[] = [];
  let from = 0;
  for (let i = 1; i <= events.length; i++) {
    const team = eventTeam(events[from]!);
    if (i < events.length && eventTeam(events[i]!) === team) continue;
    for (let at = from; at < i; at += EVENTS_PER_ROW) {
      const slice = events.slice(at, Math.min(i, at + EVENTS_PER_ROW));
      runs.push({ offset: at, count: slice.length, team, events: JSON.stringify(slice) });
    }
    from = i;
  }
  return runs;
}

/**
 * A row as both stores' range reads answer it: a batch (`last_id` ≥ `first_id`), an event_log row (`last_id`
 * 0, its id in `first_id`), or the read's one marker (`last_id` -1): the first id stored after the range, in
 * `first_id`, null when there is none.
 */
export interface StoredEventRow {
  first_id: number | null;
  last_id: number;
  body: string | null;
  created_at: Date | null;
}

/**
 * Reads every row holding an id in (after, upTo] from both tables, and the marker. A batch row holding one
 * has first_id ≤ upTo and last_id < first_id + EVENTS_PER_ROW, which bounds the key range the read scans.
 */
export type EventRangeReader = (after: number, upTo: number) => Promise<StoredEventRow[]>;

/**
 * Events with id > `afterId`, in id order, at most `limit`: the ids (afterId, afterId + limit] are read, and
 * where some are missing (appends that failed, rows retention or a team's deletion took) the next read starts
 * right after the range when a row runs on past it, else at the marker's id. Only the rows holding wanted ids
 * are read and parsed.
 */
export async function readEventRange(read: EventRangeReader, afterId: number, limit: number): Promise<EventLogRow[]> {
  const out: EventLogRow[] = [];
  let cursor = afterId;
  while (out.length < limit) {
    const upTo = cursor + (limit - out.length);
    const rows = await read(cursor, upTo);
    const page: EventLogRow[] = [];
    let next: number | null = null;
    let runsOn = false;
    for (const r of rows) {
      if (r.last_id < 0) next = r.first_id;
      else if (r.last_id === 0) page.push({ id: r.first_id!, event: JSON.parse(r.body!), created_at: r.created_at! });
      else {
        runsOn ||= r.last_id > upTo;
        (JSON.parse(r.body!) as Record<string, unknown>[]).forEach((event, i) => {
          const id = r.first_id! + i;
          if (id > cursor && id <= upTo) page.push({ id, event, created_at: r.created_at! });
        });
      }
    }
    out.push(...page.sort((a, b) => a.id - b.id));
    if (out.length >= limit) break;
    // Short of `limit` (ids missing in the range): go on right after it when a row runs on past it, else from
    // the first id stored after it.
    if (runsOn) cursor = upTo;
    else if (next !== null) cursor = next - 1;
    else break;
  }
  return out;
}

/**
 * Where retention cuts: every id below it goes. The first id written at or after the age cutoff (`firstRecent`,
 * null when none is), and no more than `keepLast` ids below the newest (`top`).
 */
export function pruneBound(top: number, firstRecent: number | null, keepLast: number): number {
  return Math.max(firstRecent ?? top + 1, top - keepLast + 1);
}

/** The events of a batch row holding id `bound`, from `bound` on, as one JSON array (the row cut by retention). */
export function eventsFrom(row: { first_id: number; body: string }, bound: number): string {
  return JSON.stringify((JSON.parse(row.body) as unknown[]).slice(bound - row.first_id));
}
