/**
 * Store contract for the lifecycle event log: appends keep order and get increasing ids, reads resume after
 * any id, text survives as JSON does, ids are never reused, and retention prunes by age and by count.
 */
import { describe, expect, test } from "bun:test";
import type { Store } from "../../src/store";

const T0 = new Date("2026-01-01T00:00:00.000Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const ev = (run_id: string, extra: Record<string, unknown> = {}) => ({
  type: "dag_run.created",
  team: "default",
  dag_id: "etl",
  run_id,
  state: "queued",
  time: T0.toISOString(),
  ...extra,
});

export function eventsContract(getStore: () => Store): void {
  describe("event log", () => {
    test("an empty log: newest id 0, nothing to read", async () => {
      const store = getStore();
      expect(await store.lastEventId()).toBe(0);
      expect(await store.readEventsAfter(0, 10)).toEqual([]);
      expect(await store.appendEvents([], T0)).toEqual([]);
    });

    test("appends get increasing ids in order; reads return the rows after an id, in id order, up to a limit", async () => {
      const store = getStore();
      const first = await store.appendEvents([ev("r1"), ev("r2")], T0);
      const second = await store.appendEvents([ev("r3")], at(1));
      const ids = [...first, ...second];
      expect(ids).toHaveLength(3);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      expect(new Set(ids).size).toBe(3);
      expect(await store.lastEventId()).toBe(ids[2]!);
      expect(await store.readEventsAfter(0, 10)).toEqual([
        { id: ids[0]!, event: ev("r1"), created_at: T0 },
        { id: ids[1]!, event: ev("r2"), created_at: T0 },
        { id: ids[2]!, event: ev("r3"), created_at: at(1) },
      ]);
      expect((await store.readEventsAfter(ids[0]!, 1)).map((r) => r.event.run_id)).toEqual(["r2"]);
      expect(await store.readEventsAfter(ids[2]!, 10)).toEqual([]);
    });

    test("a batch of hundreds: ids ascending and each read back with its own event", async () => {
      const store = getStore();
      const batch = Array.from({ length: 150 }, (_, i) => ev(`r${i}`));
      const ids = await store.appendEvents(batch, T0);
      expect(ids).toHaveLength(150);
      expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
      const rows = await store.readEventsAfter(ids[0]! - 1, 200);
      expect(rows.map((r) => r.id)).toEqual(ids);
      expect(rows.map((r) => r.event.run_id)).toEqual(batch.map((e) => e.run_id));
    });

    test("any string JSON can carry comes back as it went in (NUL, lone surrogates, emoji)", async () => {
      const store = getStore();
      const odd = ev("r\u0000x", { note: 'lone \ud800 and 🙂, "quotes" and \\ backslash' });
      const [id] = await store.appendEvents([odd], T0);
      expect((await store.readEventsAfter(id! - 1, 1))[0]!.event).toEqual(odd);
    });

    test("retention deletes rows older than the cutoff and beyond the newest N; ids are never reused", async () => {
      const store = getStore();
      const old = await store.appendEvents([ev("a"), ev("b")], T0);
      const recent = await store.appendEvents([ev("c"), ev("d"), ev("e")], at(100));
      expect(await store.pruneEvents(at(50), 1000)).toBe(2);
      expect((await store.readEventsAfter(0, 10)).map((r) => r.id)).toEqual(recent);
      expect(await store.pruneEvents(at(50), 2)).toBe(1);
      expect((await store.readEventsAfter(0, 10)).map((r) => r.id)).toEqual(recent.slice(1));
      expect(await store.pruneEvents(at(1000), 2)).toBe(2);
      expect(await store.readEventsAfter(0, 10)).toEqual([]);
      expect(await store.pruneEvents(at(1000), 2)).toBe(0);
      // An old Last-Event-ID must never point into newer events.
      const [next] = await store.appendEvents([ev("f")], at(2000));
      expect(next!).toBeGreaterThan(Math.max(...old, ...recent));
    });
  });
}
