import { describe, expect, test } from "bun:test";
import { backoff, MAX_ATTEMPTS } from "../../../src/agent";

describe("backoff", () => {
  test.each([
    [1, { delayMs: 1000, ok: true }],
    [2, { delayMs: 2000, ok: true }],
    [3, { delayMs: 4000, ok: true }],
    [4, { delayMs: 8000, ok: true }],
    [5, { delayMs: 16000, ok: true }],
    [6, { delayMs: 30000, ok: true }],
    [14, { delayMs: 30000, ok: true }],
    [15, { delayMs: 0, ok: false }],
    [0, { delayMs: 0, ok: false }],
    [-1, { delayMs: 0, ok: false }],
    [1.5, { delayMs: 0, ok: false }],
  ])("attempt %p → %p", (attempt, want) => {
    expect(backoff(attempt)).toEqual(want);
  });

  test("an agent rides out a control plane down for 5 minutes (an upgrade, a slow restart), not for ever", () => {
    let total = 0;
    for (let a = 1; a <= MAX_ATTEMPTS; a++) total += backoff(a).delayMs;
    expect(total).toBeGreaterThanOrEqual(300_000);
    expect(total).toBeLessThan(360_000);
  });
});
