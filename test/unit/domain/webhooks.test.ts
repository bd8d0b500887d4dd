import { describe, expect, test } from "bun:test";
import { ValidationError, afterFailedAttempt, validateWebhookInput, webhookWants } from "../../../src/domain";

const T = new Date("2026-01-01T00:00:00Z");
const plus = (ms: number) => new Date(T.getTime() + ms);

describe("afterFailedAttempt: 5 s base, doubling, dead at the maximum", () => {
  const failure = { status: 502, error: "HTTP 502" };
  test.each([
    [1, 3, { kind: "retry", at: plus(5000), ...failure }],
    [2, 3, { kind: "retry", at: plus(10_000), ...failure }],
    [3, 3, { kind: "dead", ...failure }],
    [4, 3, { kind: "dead", ...failure }],
    [1, 1, { kind: "dead", ...failure }],
    [4, 6, { kind: "retry", at: plus(40_000), ...failure }],
  ])("attempt %d of %d", (attempt, maxAttempts, expected) => {
    expect(afterFailedAttempt(attempt, failure, T, { maxAttempts, baseDelayMs: 5000 })).toEqual(expected as never);
  });
});

describe("webhookWants", () => {
  const w = { enabled: true, event_types: ["dag_run.finished"], dag_ids: null };
  test.each([
    [w, "dag_run.finished", "etl", true],
    [w, "dag_run.started", "etl", false],
    [{ ...w, event_types: ["*"] }, "scheduler.leader_changed", null, true],
    [{ ...w, dag_ids: ["etl"] }, "dag_run.finished", "etl", true],
    [{ ...w, dag_ids: ["etl"] }, "dag_run.finished", "reports", false],
    [{ ...w, dag_ids: ["etl"] }, "dag_run.finished", null, false],
    [{ ...w, enabled: false }, "dag_run.finished", "etl", false],
  ])("%o wants %s of %s: %p", (hook, type, dag, expected) => {
    expect(webhookWants(hook, type, dag)).toBe(expected);
  });
});

describe("validateWebhookInput", () => {
  const ok = { url: "https://hooks.example.com/x", event_types: ["*"], secret: "0123456789abcdef" };
  const problem = (input: object, creating = true) => {
    try {
      validateWebhookInput(input, creating);
      return null;
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      return (e as Error).message;
    }
  };
  test("accepts a complete input, and a patch of some fields", () => {
    expect(problem(ok)).toBeNull();
    expect(problem({ enabled: false }, false)).toBeNull();
  });
  test.each([
    [{ url: "not a url" }, 'url "not a url" is not an http(s) URL; use e.g. https://hooks.example.com/leoflow'],
    [
      { url: "https://user:pw@x.example/" },
      "url must not carry credentials; the receiver authenticates requests by their X-Leoflow-Signature",
    ],
    [{ event_types: [] }, "event_types must be a non-empty list; valid types: *, dag_run.started"],
    [{ event_types: ["dag_run.finished", "nope"] }, 'unknown event type "nope"; valid types: *, dag_run.started'],
    [{ dag_ids: [""] }, "dag_ids must be a list of DAG ids (or null for every DAG)"],
    [{ secret: "short" }, "secret must be a string of 16 to 512 characters"],
  ])("refuses %o", (bad, message) => {
    expect(problem({ ...ok, ...bad })).toStartWith(message);
  });
  test("a create without a url is refused; a patch without one is not", () => {
    expect(problem({ event_types: ["*"], secret: ok.secret })).toStartWith("url null is not an http(s) URL");
    expect(problem({ event_types: ["*"] }, false)).toBeNull();
  });
});
