/** An in-memory event log with the store's contract (ids ascending, read after an id), for the events unit tests. */
import type { EventHistory, LeoflowEvent } from "../../../src/events";

export class MemoryLog implements EventHistory {
  rows: LeoflowEvent[] = [];
  reads = 0;
  /** When set, the next append throws it (once). */
  failNext: Error | null = null;

  async append(events: Record<string, unknown>[]): Promise<number[]> {
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = null;
      throw e;
    }
    return events.map((e) => {
      const id = (this.rows.at(-1)?.id ?? 0) + 1;
      this.rows.push({ ...e, id } as LeoflowEvent);
      return id;
    });
  }

  async readAfter(afterId: number, limit: number): Promise<LeoflowEvent[]> {
    this.reads++;
    return this.rows.filter((e) => e.id > afterId).slice(0, limit);
  }

  async lastId(): Promise<number> {
    return this.rows.at(-1)?.id ?? 0;
  }
}

export const T = "2026-01-01T00:00:00.000Z";
export const created = (run_id: string, dag_id = "etl") => ({
  type: "dag_run.created" as const,
  team: "default",
  dag_id,
  run_id,
  state: "queued" as const,
  time: T,
});
