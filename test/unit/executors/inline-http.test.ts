/** Pure pieces of the inline HTTP executor: retry decision, backoff, Retry-After. Table-driven, no clock. */
import { describe, expect, test } from "bun:test";
import { backoffDelayMs, decideAttempt, parseRetryAfter, retryDelayMs, type AttemptOutcome } from "../../../src/executors";

const status = (s: number, retryAfterMs: number | null = null): AttemptOutcome => ({ kind: "status", status: s, retryAfterMs });

describe("decideAttempt", () => {
  const cases: [string, AttemptOutcome, number[] | undefined, "success" | "retry" | "fail"][] = [
    ["200 is success by default", status(200), undefined, "success"],
    ["204 is success by default", status(204), undefined, "success"],
    ["302 is not 2xx", status(302), undefined, "fail"],
    ["404 is final", status(404), undefined, "fail"],
    ["400 is final", status(400), undefined, "fail"],
    ["429 is retried", status(429), undefined, "retry"],
    ["500 is retried", status(500), undefined, "retry"],
    ["503 is retried", status(503), undefined, "retry"],
    ["expected 404 is success", status(404), [404], "success"],
    ["expected [201]: 200 is a final failure", status(200), [201], "fail"],
    ["expected [500]: 500 is success", status(500), [500], "success"],
    ["expected [201]: 503 is still retried", status(503), [201], "retry"],
    ["connection errors are retried", { kind: "network", message: "refused" }, undefined, "retry"],
    ["timeouts are retried", { kind: "timeout" }, undefined, "retry"],
  ];
  for (const [name, outcome, expected, want] of cases) test(name, () => expect(decideAttempt(outcome, expected)).toBe(want));
});

describe("backoff and Retry-After", () => {
  const policy = { baseMs: 1000, maxMs: 10_000, maxRetryAfterMs: 60_000 };
  test.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 10_000],
    [30, 10_000],
  ])("retry %i waits %i ms", (retry, want) => expect(backoffDelayMs(retry, policy)).toBe(want));

  const now = new Date("2026-03-01T12:00:00Z");
  test.each([
    ["5", 5000],
    ["0", 0],
    [" 12 ", 12_000],
    ["Sun, 01 Mar 2026 12:00:30 GMT", 30_000],
    ["Sun, 01 Mar 2026 11:00:00 GMT", 0],
    ["", null],
    ["soon", null],
    ["-3", null],
    ["1.5", null],
  ] as [string, number | null][])("Retry-After %p → %p ms", (header, want) => expect(parseRetryAfter(header, now)).toBe(want));
  test("absent header", () => expect(parseRetryAfter(null, now)).toBeNull());

  test("the server's Retry-After wins over backoff, capped; without one, backoff", () => {
    expect(retryDelayMs(status(503, 7000), 1, policy)).toBe(7000);
    expect(retryDelayMs(status(429, 0), 3, policy)).toBe(0);
    expect(retryDelayMs(status(429, 3_600_000), 1, policy)).toBe(60_000);
    expect(retryDelayMs(status(503), 2, policy)).toBe(2000);
    expect(retryDelayMs({ kind: "timeout" }, 3, policy)).toBe(4000);
  });
});
