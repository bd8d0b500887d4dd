import { expect, test } from "bun:test";
import { MAX_EXPONENTIAL_RETRY_DELAY_SECONDS, retryDelaySeconds } from "../../../src/scheduler";

const task = (retry_delay: number, retry_exponential_backoff: boolean, max_retry_delay?: number) => ({
  retry_delay,
  retry_exponential_backoff,
  max_retry_delay,
});

test.each([
  // [what, task, tryNumber, seconds]
  ["fixed delay, first try", task(300, false), 1, 300],
  ["fixed delay ignores the try number", task(300, false), 7, 300],
  ["fixed delay ignores max_retry_delay", task(300, false, 10), 3, 300],
  ["zero delay", task(0, true), 5, 0],
  ["exponential: try 1 waits retry_delay", task(10, true), 1, 10],
  ["exponential: try 2 doubles", task(10, true), 2, 20],
  ["exponential: try 4", task(10, true), 4, 80],
  ["exponential capped at max_retry_delay", task(10, true, 60), 4, 60],
  ["exponential below the cap is unchanged", task(10, true, 60), 3, 40],
  ["exponential without max is capped at one day", task(60, true), 20, MAX_EXPONENTIAL_RETRY_DELAY_SECONDS],
  ["a huge try number does not overflow", task(1, true, 3600), 5000, 3600],
] as const)("%s", (_what, t, tryNumber, expected) => {
  expect(retryDelaySeconds(t, tryNumber)).toBe(expected);
});

test("one day is 86400 s", () => expect(MAX_EXPONENTIAL_RETRY_DELAY_SECONDS).toBe(86_400));
