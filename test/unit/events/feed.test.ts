/**
 * EventFeed: brings the log into the hub in id order, exactly once, however pokes arrive (coalesced,
 * repeated, lost); with no one listening it only moves its cursor, so a new stream gets no old backlog.
 */
import { describe, expect, test } from "bun:test";
import { EventFeed, EventHub, parseEventsPayload, type LeoflowEvent } from "../../../src/events";
import { MemoryLog, created } from "./memory-log";

function setup(pageSize?: number) {
  const mem = new MemoryLog();
  const hub = new EventHub();
  const feed = new EventFeed({ history: mem, publish: (e) => hub.publish(e), listening: () => hub.wanted, pageSize });
  return { mem, hub, feed };
}
const drain = (sub: { poll(): LeoflowEvent | undefined }) => {
  const out: number[] = [];
  for (let e = sub.poll(); e; e = sub.poll()) out.push(e.id);
  return out;
};

describe("EventFeed", () => {
  test("starts at the newest id: what was logged before start is not published", async () => {
    const { mem, hub, feed } = setup();
    await mem.append([created("old")]);
    await feed.start();
    const sub = hub.subscribe();
    await mem.append([created("new")]);
    feed.poke();
    await feed.idle();
    expect(drain(sub)).toEqual([2]);
  });

  test("pokes that arrive while reading are coalesced; every row is published once, in id order, page by page", async () => {
    const { mem, hub, feed } = setup(2);
    await feed.start();
    const sub = hub.subscribe();
    await mem.append([created("a"), created("b"), created("c")]);
    feed.poke(3);
    feed.poke(3);
    await mem.append([created("d"), created("e")]);
    feed.poke(5);
    await feed.idle();
    feed.poke(2); // a late, stale notification
    await feed.idle();
    expect(drain(sub)).toEqual([1, 2, 3, 4, 5]);
  });

  test("a lost notification costs nothing but latency: the next poke reads from the cursor", async () => {
    const { mem, hub, feed } = setup();
    await feed.start();
    const sub = hub.subscribe();
    await mem.append([created("a")]); // its notification never came
    await mem.append([created("b")]);
    feed.poke(2);
    await feed.idle();
    expect(drain(sub)).toEqual([1, 2]);
  });

  test("with no stream listening it reads no rows and moves its cursor, so the next stream gets no backlog", async () => {
    const { mem, hub, feed } = setup();
    await feed.start();
    await mem.append([created("a"), created("b")]);
    feed.poke(2);
    await feed.idle();
    await mem.append([created("c")]);
    feed.poke(); // no id: a poll or a reconnect
    await feed.idle();
    expect([feed.cursor, mem.reads]).toEqual([3, 0]);
    const sub = hub.subscribe();
    await mem.append([created("d")]);
    feed.poke(4);
    await feed.idle();
    expect(drain(sub)).toEqual([4]);
  });
});

describe("parseEventsPayload (what another replica's NOTIFY says)", () => {
  test.each([
    ["other:42", { upTo: 42 }],
    ["me:42", null], // this replica's own: its feed was poked at the append
    ["other:", {}], // malformed: read from the cursor anyway
    ["other:-3", {}],
    ["other:abc", {}],
  ])("%p → %p", (payload, want) => expect(parseEventsPayload(payload, "me")).toEqual(want));
});
