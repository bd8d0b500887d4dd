/**
 * TransitionBatcher: writes asked for in the same pass of the event loop, or while a batch is in flight, go out together (a
 * caller's several writes always in one batch, in order); each caller learns whether its own transition
 * applied, or gets the batch's error. No I/O: a recording writer.
 */
import { describe, expect, test } from "bun:test";
import type { TaskTransition } from "../../../src/domain";
import { TransitionBatcher } from "../../../src/executors/inline-batch";

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
    // Two timers due together run in the same pass, as the completions of requests answered together do.
    const answers = await Promise.all([1, 2, 3].map((id) => new Promise((done) => setTimeout(() => done(b.apply(t(id), at(id))), 0))));
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
