import { describe, expect, test } from "bun:test";
import { pokeAnswer, runTsSensor } from "../../../src/dags/run-ts-sensor";

describe("what a ts check's return value means", () => {
  test.each<[string, unknown, ReturnType<typeof pokeAnswer>]>([
    ["true: done, no XCom", true, { done: true }],
    ["a value: done, the value is the XCom", { rows: 3 }, { done: true, value: { rows: 3 } }],
    ["a number", 7, { done: true, value: 7 }],
    ["false: not yet", false, { done: false }],
    ["null: not yet", null, { done: false }],
    ["0: not yet", 0, { done: false }],
    ["empty string: not yet", "", { done: false }],
    ["PokeReturnValue done with a value", { is_done: true, xcom_value: "s3://x" }, { done: true, value: "s3://x" }],
    ["PokeReturnValue done without a value", { is_done: true }, { done: true }],
    ["PokeReturnValue not done", { is_done: false, xcom_value: 1 }, { done: false }],
  ])("%s", (_, result, want) => {
    expect(pokeAnswer(result)).toEqual(want);
  });
});

/** A fake clock and check: `answers` in order; sleeps advance the clock. */
function io(answers: unknown[]) {
  let t = 0;
  const lines: string[] = [];
  const kept: unknown[] = [];
  const sleeps: number[] = [];
  return {
    lines,
    kept,
    sleeps,
    io: {
      check: async () => {
        const a = answers.shift();
        if (a instanceof Error) throw a;
        return a;
      },
      keep: async (v: unknown) => void kept.push(v),
      now: () => t,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        t += ms;
      },
      log: (line: string) => void lines.push(line),
    },
  };
}

describe("a ts sensor's run", () => {
  test("mode poke: checks every poke_interval (with backoff) until done, keeping the value", async () => {
    const f = io([false, 0, { n: 1 }]);
    expect(await runTsSensor({ poke_interval: 5, exponential_backoff: true, timeout: 100 }, f.io)).toBe(0);
    expect(f.sleeps).toEqual([5_000, 10_000]);
    expect(f.kept).toEqual([{ n: 1 }]);
    expect(f.lines.at(-1)).toBe("sensor done after 3 checks");
  });

  test("mode poke: at the timeout exit 98 (failed, not retried); with soft_fail 99 (skipped); never sleeping past it", async () => {
    const f = io([false, false, false]);
    expect(await runTsSensor({ poke_interval: 30, timeout: 50 }, f.io)).toBe(98);
    expect(f.sleeps).toEqual([30_000, 20_000]);
    expect(await runTsSensor({ poke_interval: 30, timeout: 50, soft_fail: true }, io([false, false]).io)).toBe(99);
  });

  test("mode reschedule: one check; not yet is exit 75", async () => {
    const f = io([false]);
    expect(await runTsSensor({ mode: "reschedule", poke_interval: 5 }, f.io)).toBe(75);
    expect(f.sleeps).toEqual([]);
    expect(await runTsSensor({ mode: "reschedule" }, io([true]).io)).toBe(0);
  });

  test("a check that throws fails the try (exit 1), or skips it with soft_fail", async () => {
    expect(await runTsSensor({}, io([new Error("boom")]).io)).toBe(1);
    expect(await runTsSensor({ soft_fail: true }, io([new Error("boom")]).io)).toBe(99);
  });
});
