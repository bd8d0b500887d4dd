/** EventHub: fan-out that never blocks the producer; a slow subscriber loses events and the loss is counted. */
import { describe, expect, test } from "bun:test";
import { EventHub, type LeoflowEvent } from "../../../src/events";

const T = "2026-01-01T00:00:00.000Z";
const created = (run_id: string) => ({
  type: "dag_run.created" as const,
  team: "default",
  dag_id: "etl",
  run_id,
  state: "queued" as const,
  time: T,
});

describe("EventHub", () => {
  test("every subscriber gets every event, stamped with increasing ids, in order", async () => {
    const hub = new EventHub();
    const a = hub.subscribe();
    const b = hub.subscribe();
    hub.emit(created("r1"));
    hub.emit(created("r2"));
    for (const sub of [a, b]) {
      expect(await sub.next()).toEqual({ ...created("r1"), id: 1 });
      expect(await sub.next()).toEqual({ ...created("r2"), id: 2 });
    }
    expect([hub.emitted, hub.dropped, hub.subscriberCount]).toEqual([2, 0, 2]);
  });

  test("a full buffer drops new events for that subscriber only and counts them", async () => {
    const hub = new EventHub();
    const slow = hub.subscribe({ bufferSize: 2 });
    const fast = hub.subscribe();
    for (let i = 1; i <= 5; i++) hub.emit(created(`r${i}`));
    expect([slow.pending, slow.dropped, fast.pending, fast.dropped, hub.dropped]).toEqual([2, 3, 5, 0, 3]);
    expect((await slow.next())!.run_id).toBe("r1");
    expect((await slow.next())!.run_id).toBe("r2");
    hub.emit(created("r6"));
    expect((await slow.next())!.run_id).toBe("r6");
  });

  test("a waiting reader is handed the event directly; close ends the iteration", async () => {
    const hub = new EventHub();
    const sub = hub.subscribe();
    const got: LeoflowEvent[] = [];
    let handed!: () => void;
    const first = new Promise<void>((r) => (handed = r));
    const reading = (async () => {
      for await (const e of sub) {
        got.push(e);
        handed();
      }
    })();
    hub.emit(created("r1"));
    expect(sub.pending).toBe(0); // not buffered: the waiting reader took it
    await first;
    sub.close();
    await reading;
    expect(got.map((e) => e.run_id)).toEqual(["r1"]);
    expect(hub.subscriberCount).toBe(0);
    expect(await sub.next()).toBeNull();
  });

  test("filters select events; a throwing filter drops the event instead of breaking emit", async () => {
    const hub = new EventHub();
    const only = hub.subscribe({ filter: (e) => e.run_id === "r2" });
    const broken = hub.subscribe({
      filter: () => {
        throw new Error("bad filter");
      },
    });
    hub.emit(created("r1"));
    hub.emit(created("r2"));
    expect((await only.next())!.run_id).toBe("r2");
    expect(only.pending).toBe(0);
    expect(broken.pending).toBe(0);
  });

  test("emitting with no subscriber costs a counter and nothing else", () => {
    const hub = new EventHub();
    for (let i = 0; i < 1000; i++) hub.emit(created("r"));
    expect([hub.emitted, hub.dropped]).toEqual([1000, 0]);
  });
});
