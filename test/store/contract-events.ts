/**
 * Store contract for the lifecycle event log: appends keep order and get increasing ids, reads resume after
 * any id, text survives as JSON does, ids are never reused, and retention prunes by age and by count.
 */
import { describe, expect, test } from "bun:test";
import type { TeamInput } from "../../src/domain";
import type { Store } from "../../src/store";
import { EVENTS_PER_ROW } from "../../src/store/event-batches";

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

    test("events stored a batch to a row read back from any id with any limit, across rows and teams", async () => {
      const store = getStore();
      const appends = [
        [ev("a1"), ev("a2"), ev("b1", { team: "b" }), ev("a3")],
        [ev("a4")],
        Array.from({ length: 9 }, (_, i) => ev(`c${i}`, { team: i < 5 ? "default" : "c" })),
      ];
      const all: { id: number; run_id: unknown }[] = [];
      for (const [k, batch] of appends.entries()) {
        const ids = await store.appendEvents(batch, at(k));
        for (const [i, e] of batch.entries()) all.push({ id: ids[i]!, run_id: e.run_id });
      }
      expect(all.map((e) => e.id)).toEqual(all.map((_, i) => all[0]!.id + i));
      for (let after = all[0]!.id - 1; after <= all.at(-1)!.id; after++)
        for (const limit of [1, 2, 3, 7, 100]) {
          const want = all.filter((e) => e.id > after).slice(0, limit);
          const got = await store.readEventsAfter(after, limit);
          expect(got.map((r) => ({ id: r.id, run_id: r.event.run_id }))).toEqual(want);
        }
      expect((await store.readEventsAfter(all[0]!.id - 1, 3)).map((r) => r.created_at)).toEqual([at(0), at(0), at(0)]);
      expect(await store.lastEventId()).toBe(all.at(-1)!.id);
    });

    test(`an append of more than ${EVENTS_PER_ROW} events reads back whole and in pages`, async () => {
      const store = getStore();
      const batch = Array.from({ length: EVENTS_PER_ROW * 2 + 200 }, (_, i) => ev(`r${i}`));
      const ids = await store.appendEvents(batch, T0);
      expect(ids).toEqual(batch.map((_, i) => ids[0]! + i));
      expect((await store.readEventsAfter(ids[0]! - 1, 5000)).map((r) => r.event.run_id)).toEqual(batch.map((e) => e.run_id));
      const paged: unknown[] = [];
      for (let after = ids[0]! - 1; ; ) {
        const page = await store.readEventsAfter(after, 333);
        if (!page.length) break;
        paged.push(...page.map((r) => r.event.run_id));
        after = page.at(-1)!.id;
      }
      expect(paged).toEqual(batch.map((e) => e.run_id));
    });

    test("a deleted team's events leave a gap that reads step over; the other teams' remain", async () => {
      const store = getStore();
      const team: TeamInput = {
        name: "gone",
        description: null,
        max_running_tasks: null,
        max_pool_slots: null,
        max_inline_requests: null,
        executor_policy: {},
      };
      await store.createTeam(team, T0);
      const before = await store.appendEvents([ev("d1")], T0);
      const gone = await store.appendEvents(
        Array.from({ length: 40 }, (_, i) => ev(`g${i}`, { team: "gone" })),
        T0,
      );
      const mixed = await store.appendEvents([ev("g40", { team: "gone" }), ev("d2"), ev("g41", { team: "gone" })], T0);
      expect(await store.deleteTeam("gone")).toBe(true);
      expect((await store.readEventsAfter(before[0]! - 1, 2)).map((r) => [r.id, r.event.run_id])).toEqual([
        [before[0]!, "d1"],
        [mixed[1]!, "d2"],
      ]);
      expect((await store.readEventsAfter(gone[0]!, 1)).map((r) => r.event.run_id)).toEqual(["d2"]);
      expect(await store.readEventsAfter(mixed[1]!, 10)).toEqual([]);
      // Ids go on after the deleted ones.
      expect((await store.appendEvents([ev("d3")], T0))[0]!).toBe(mixed[2]! + 1);
      // A gap, then a row running on past the range read: the page is still full, nothing skipped.
      await store.createTeam({ ...team, name: "gone2" }, T0);
      const gap = await store.appendEvents(
        Array.from({ length: 5 }, (_, i) => ev(`h${i}`, { team: "gone2" })),
        T0,
      );
      const long = await store.appendEvents(
        Array.from({ length: 20 }, (_, i) => ev(`l${i}`)),
        T0,
      );
      const after = await store.appendEvents(
        Array.from({ length: 3 }, (_, i) => ev(`z${i}`)),
        T0,
      );
      expect(await store.deleteTeam("gone2")).toBe(true);
      expect((await store.readEventsAfter(gap[0]! - 1, 10)).map((r) => r.id)).toEqual(long.slice(0, 10));
      const rest: number[] = [];
      for (let cursor = gap[0]! - 1; ; ) {
        const page = await store.readEventsAfter(cursor, 7);
        if (!page.length) break;
        rest.push(...page.map((r) => r.id));
        cursor = page.at(-1)!.id;
      }
      expect(rest).toEqual([...long, ...after]);
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
      // The newest N cut through one append's events: the older ones of it go, the rest read back.
      const many = await store.appendEvents(
        Array.from({ length: 30 }, (_, i) => ev(`m${i}`)),
        at(3000),
      );
      expect(await store.pruneEvents(at(2000), 12)).toBe(18);
      expect((await store.readEventsAfter(0, 100)).map((r) => r.id)).toEqual(many.slice(18));
      expect((await store.readEventsAfter(many[20]!, 1)).map((r) => r.event.run_id)).toEqual(["m21"]);
      // An old Last-Event-ID must never point into newer events.
      const [next] = await store.appendEvents([ev("f")], at(2000));
      expect(next!).toBeGreaterThan(Math.max(...old, ...recent));
    });
  });
}
