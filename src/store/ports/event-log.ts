/** EventLogStore: the lifecycle event log (GET /api/v2/leoflow/events), shared by every Pro replica. */
import type { EventLogRow } from "../../domain";

/**
 * Where an append tells the other replicas it committed: a Postgres NOTIFY on `channel` with the payload
 * `<origin>:<newest id>`, sent by the append's own transaction (so it is delivered with its commit, and costs
 * no transaction of its own). Stores without notifications (SQLite: one process) ignore it.
 */
export interface EventAppendNotice {
  channel: string;
  origin: string;
}

export interface EventLogStore {
  /**
   * Appends events in order, in one transaction; returns their ids, ascending. Appends are serialized, so
   * ids become visible in increasing order: a reader that saw id N will never later find a new id below N.
   * Each row's team is the event's own `team` (streams show a team only its events). `notice`: tell the other
   * replicas with the commit (EventAppendNotice).
   */
  appendEvents(events: Record<string, unknown>[], now: Date, notice?: EventAppendNotice): Promise<number[]>;
  /** Rows with id > afterId, in id order, at most `limit`. */
  readEventsAfter(afterId: number, limit: number): Promise<EventLogRow[]>;
  /** The newest id, 0 when the log is empty. */
  lastEventId(): Promise<number>;
  /** Deletes rows created before `before` and all but the newest `keepLast`; returns how many. */
  pruneEvents(before: Date, keepLast: number): Promise<number>;
}
