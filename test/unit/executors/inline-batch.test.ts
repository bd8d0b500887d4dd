/**
 * TransitionBatcher: writes asked for in the same pass of the event loop, or while a batch is in flight, go out together (a
 * caller's several writes always in one batch, in order); each caller learns whether its own transition
 * applied, or gets the batch's error. With `inFlight` above 1, a write asked for while batches are in flight goes
 * out at once, up to that many batches on their way together. No I/O: a recording writer.
 */
import { describe, expect, test } from "bun:test";
import type { TaskTransition } from "../../../src/domain";
import { TransitionBatcher, WriteBatcher } from "../../../src/executors/inline-batch";

const t = (id: number, to: TaskTransition["to"] = "success"): TaskTransition => ({ id, from: ["running"], to, try_number: 1 });
const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);

function recorder(answer: (batch: TaskTransition[]) => boolean[] | Error = (b) => b.map((x) => x.id % 2 === 1)) {
  const batches: { ids: number[]; now: Date }[] = [];
  let release: (() => void) | null = null;
  let hold: Promise<void> | null = null;
  const write = async (batch: TaskTransition[], now: Date) => {
    batches.push({ ids: batch.map((x) => x.id), now });
    if (hold) await hold;
    const a = answer(batch);
    if (a instanceof Error) throw a;
    return a;
  };
  return {
    write,
    batches,
    holdNext: () => (hold = new Promise<void>((r) => (release = r))),
    release: () => {
      hold = null;
      release?.();
    },
  };
}

describe("TransitionBatcher", () => {
  test("writes asked for in the same turn go out as one batch stamped with its latest time; each caller gets its own answer", async () => {
    const r = recorder();
    const b = new TransitionBatcher(r.write);
    const answers = await Promise.all([b.apply(t(1), at(5)), b.apply(t(2), at(9)), b.apply(t(3), at(7))]);
    expect(answers).toEqual([true, false, true]);
    expect(r.batches).toEqual([{ ids: [1, 2, 3], now: at(9) }]);
    expect(b.stats).toEqual({ batches: 1, items: 3 });
  });

  test("writes asked for by different callbacks of one pass of the event loop (responses arriving together) share a batch", async () => {
    const r = recorder();
    const b = new TransitionBatcher(r.write);
    // Three callbacks of one pass, as the completions of requests answered together are. setImmediate, not
    // setTimeout(0): timers set a millisecond apart on a loaded machine may fall due in different passes.
    const answers = await Promise.all([1, 2, 3].map((id) => new Promise((done) => setImmediate(() => done(b.apply(t(id), at(id)))))));
    expect(answers).toEqual([true, false, true]);
    expect(r.batches).toEqual([{ ids: [1, 2, 3], now: at(3) }]);
  });

  test("writes asked for while a batch is in flight wait and go out together in the next one", async () => {
    const r = recorder();
    const b = new TransitionBatcher(r.write);
    r.holdNext();
    const first = b.apply(t(1), at(1));
    await Bun.sleep(0);
    const later = [b.apply(t(3), at(2)), b.apply(t(5), at(3))];
    r.release();
    expect(await Promise.all([first, ...later])).toEqual([true, true, true]);
    expect(r.batches.map((x) => x.ids)).toEqual([[1], [3, 5]]);
  });

  test("applyAll's writes go out in one batch, in order, beside others of the same turn; each gets its answer", async () => {
    const r = recorder();
    const b = new TransitionBatcher(r.write);
    r.holdNext();
    const first = b.apply(t(1), at(1));
    await Bun.sleep(0);
    // Asked for while a batch is in flight: the pair waits, and both go out in the next batch together.
    const pair = b.applyAll([t(3, "scheduled"), t(3, "running")], at(2));
    const other = b.apply(t(4), at(2));
    r.release();
    expect(await Promise.all([first, pair, other])).toEqual([true, [true, true], false]);
    expect(r.batches.map((x) => x.ids)).toEqual([[1], [3, 3, 4]]);
  });

  test("a lone write (nothing else can join it) goes out without waiting for the event loop's turn", async () => {
    const order: string[] = [];
    const write = async (items: number[]) => (order.push(`write ${items.join(",")}`), items.map(() => true));
    setImmediate(() => order.push("turn"));
    const lone = new WriteBatcher(write, { alone: () => true });
    expect(await lone.apply(1, at(0))).toBe(true);
    expect(order).toEqual(["write 1"]);
    // Not alone: the write waits for the turn, so that others of the same pass can join it.
    await Bun.sleep(0);
    order.length = 0;
    setImmediate(() => order.push("turn"));
    const shared = new WriteBatcher(write, { alone: () => false });
    await shared.apply(2, at(0));
    expect(order).toEqual(["turn", "write 2"]);
  });

  test("a lone caller's several writes (applyAll) still go out as one batch, in order", async () => {
    const r = recorder();
    const lone = new WriteBatcher((ts: TaskTransition[], now: Date) => r.write(ts, now), { alone: () => true });
    expect(await lone.applyAll([t(1, "scheduled"), t(1, "running")], at(1))).toEqual([true, true]);
    expect(r.batches.map((x) => x.ids)).toEqual([[1, 1]]);
  });

  test("a refused batch rejects every write in it with the store's error; the next batch goes on", async () => {
    let refuse = true;
    const r = recorder((batch) => (refuse ? new Error("database is restarting") : batch.map(() => true)));
    const b = new TransitionBatcher(r.write);
    const results = await Promise.allSettled([b.apply(t(1), at(1)), b.apply(t(2), at(1))]);
    expect(results.map((x) => (x.status === "rejected" ? String(x.reason) : x.value))).toEqual([
      "Error: database is restarting",
      "Error: database is restarting",
    ]);
    refuse = false;
    expect(await b.apply(t(1), at(2))).toBe(true);
  });
});

/** A writer whose every batch waits until the test answers it: `sent` lists the batches given to the store so far. */
function heldWriter() {
  const sent: { ids: number[]; answer: (ok: boolean) => void }[] = [];
  const write = (batch: number[]) =>
    new Promise<string[]>((resolve, reject) =>
      sent.push({ ids: batch, answer: (ok) => (ok ? resolve(batch.map((id) => `done ${id}`)) : reject(new Error("connection lost"))) }),
    );
  return { write, sent };
}

describe("WriteBatcher with batches in flight at once (inFlight)", () => {
  test("a write asked for while one batch is in flight goes out at once in a second batch, up to the limit; the rest wait", async () => {
    const w = heldWriter();
    const b = new WriteBatcher<number, string>(w.write, { inFlight: 2 });
    const first = b.apply(1, at(1));
    await Bun.sleep(0);
    const second = [b.apply(2, at(2)), b.apply(3, at(2))];
    await Bun.sleep(0);
    // Two batches on their way, neither answered: a third write waits for one of them.
    expect(w.sent.map((x) => x.ids)).toEqual([[1], [2, 3]]);
    const third = b.apply(4, at(3));
    await Bun.sleep(0);
    expect(w.sent).toHaveLength(2);
    // The second batch is answered first: its callers get their answers, and the waiting write goes out.
    w.sent[1]!.answer(true);
    expect(await Promise.all(second)).toEqual(["done 2", "done 3"]);
    await Bun.sleep(0);
    expect(w.sent.map((x) => x.ids)).toEqual([[1], [2, 3], [4]]);
    w.sent[0]!.answer(true);
    w.sent[2]!.answer(true);
    expect(await Promise.all([first, third])).toEqual(["done 1", "done 4"]);
    expect(b.stats).toEqual({ batches: 3, items: 4 });
  });

  test("one in flight by default: writes asked for meanwhile wait for its answer and go out together", async () => {
    const w = heldWriter();
    const b = new WriteBatcher<number, string>(w.write);
    const first = b.apply(1, at(1));
    await Bun.sleep(0);
    const later = [b.apply(2, at(2)), b.apply(3, at(2))];
    await Bun.sleep(0);
    expect(w.sent.map((x) => x.ids)).toEqual([[1]]);
    w.sent[0]!.answer(true);
    await first;
    await Bun.sleep(0);
    expect(w.sent.map((x) => x.ids)).toEqual([[1], [2, 3]]);
    w.sent[1]!.answer(true);
    expect(await Promise.all(later)).toEqual(["done 2", "done 3"]);
  });

  test("a batch that fails rejects only its own callers; the batch beside it is answered as written", async () => {
    const w = heldWriter();
    const b = new WriteBatcher<number, string>(w.write, { inFlight: 3 });
    const first = b.apply(1, at(1));
    await Bun.sleep(0);
    const second = b.apply(2, at(2));
    await Bun.sleep(0);
    w.sent[0]!.answer(false);
    w.sent[1]!.answer(true);
    expect(await Promise.allSettled([first, second])).toEqual([
      { status: "rejected", reason: new Error("connection lost") },
      { status: "fulfilled", value: "done 2" },
    ]);
    // Both lanes are free again: the next write goes out alone, at once.
    const next = b.apply(3, at(3));
    await Bun.sleep(0);
    expect(w.sent.map((x) => x.ids)).toEqual([[1], [2], [3]]);
    w.sent[2]!.answer(true);
    expect(await next).toBe("done 3");
  });
});
