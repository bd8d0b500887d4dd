/** Which tasks run inline, the duration cap (at start and at DAG load), the XCom value of a response, routing. */
import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../../src/domain/schemas";
import {
  InlineRunner,
  Router,
  acceptsInline,
  admitInlineTasks,
  attemptLine,
  finishTransition,
  httpTaskOf,
  inlineDeadline,
  inlineDurationProblem,
  outcomeRetryDelayMs,
  requestLine,
  responseValue,
  startTransition,
  storingLine,
  type Executor,
  type InlineRunnerPort,
} from "../../../src/executors";
import { silentLogger } from "../../../src/observability";

describe("acceptsInline", () => {
  test.each([
    [{ operator: "http" }, true],
    [{ operator: "http", execution_mode: "inline" }, true],
    [{ operator: "http", executor: "inline" }, true],
    [{ operator: "http", execution_mode: "agent" }, false],
    [{ operator: "http", executor: "kubernetes" }, false],
    [{ operator: "bash" }, false],
  ] as const)("%j → %p", (task, want) => expect(acceptsInline(task as never)).toBe(want));
});

describe("the duration cap", () => {
  test.each([
    [{ task_id: "t" }, null],
    [{ task_id: "t", execution_timeout: 300 }, null],
    [{ task_id: "t", execution_timeout: 301 }, "task t: execution_timeout 301s is over the inline task cap of 300s"],
    [{ task_id: "t", http: { method: "GET", url: "x", timeout: 900 } }, "task t: http.timeout 900s is over the inline task cap of 300s"],
  ] as const)("%j", (task, want) => {
    const got = inlineDurationProblem(task as never, 300);
    if (want === null) expect(got).toBeNull();
    else expect(got).toStartWith(want);
  });

  test("at DAG load, only inline http tasks over the cap are refused, with their path", () => {
    const spec = parseDagSpec({
      dag_id: "d",
      tasks: [
        { task_id: "ok", operator: "http", http: { url: "http://x" } },
        { task_id: "slow", operator: "http", execution_timeout: 1000, http: { url: "http://x" } },
        { task_id: "bash_slow", operator: "bash", bash_command: "sleep 1", execution_timeout: 1000 },
      ],
    });
    expect(admitInlineTasks(spec, 300)).toEqual([
      {
        path: "tasks[1]",
        message:
          "task slow: execution_timeout 1000s is over the inline task cap of 300s; lower it or start the server with a larger --inline-max-seconds",
      },
    ]);
  });
});

describe("responseValue", () => {
  test.each([
    [
      { body: '{"a":1}', contentType: "application/json" },
      { value: { a: 1 }, kind: "json" },
    ],
    [
      { body: '{"a":1}', contentType: "application/problem+json" },
      { value: { a: 1 }, kind: "json" },
    ],
    [
      { body: "[1,2]", contentType: "application/json; charset=utf-8" },
      { value: [1, 2], kind: "json" },
    ],
    [
      { body: '{"a":1}', contentType: "text/plain" },
      { value: '{"a":1}', kind: "text" },
    ],
    [
      { body: "not json", contentType: "application/json" },
      { value: "not json", kind: "text" },
    ],
    [{ body: "", contentType: "application/json" }, null],
  ])("%j", (res, want) => expect(responseValue(res)).toEqual(want as never));
});

test("attempt log lines: method, safe URL, outcome, duration, next retry", () => {
  expect(attemptLine("GET", "http://h/x?token=***", 4, { attempt: 2, status: 503, error: null, durationMs: 12, retryInMs: 2000 })).toBe(
    "attempt 2/4: GET http://h/x?token=*** -> HTTP 503 in 12 ms; retrying in 2000 ms",
  );
  expect(
    attemptLine("POST", "http://h", 1, { attempt: 1, status: null, error: "timed out after 5s", durationMs: 5001, retryInMs: null }),
  ).toBe("attempt 1/1: POST http://h -> timed out after 5s in 5001 ms");
});

test("the request and stored-body log lines", () => {
  expect(requestLine({ method: "GET", safeUrl: "http://h/x", timeoutSeconds: 30, retries: 1 })).toBe(
    "inline http: GET http://h/x (timeout 30s per attempt, up to 1 retry)",
  );
  expect(requestLine({ method: "POST", safeUrl: "http://h", timeoutSeconds: 5, retries: 3 })).toBe(
    "inline http: POST http://h (timeout 5s per attempt, up to 3 retries)",
  );
  expect(storingLine(12, "json")).toBe("storing the response body (12 bytes, json) as XCom return_value");
});

describe("a try's deadline, state changes and outcome retries", () => {
  test.each([
    [{}, { seconds: 300, reason: "task timed out after 300s (--inline-max-seconds)" }],
    [{ execution_timeout: 20 }, { seconds: 20, reason: "task timed out after 20s (execution_timeout)" }],
    [{ execution_timeout: 900 }, { seconds: 300, reason: "task timed out after 300s (execution_timeout)" }],
  ])("deadline of %j under a cap of 300s", (task, want) => expect(inlineDeadline(task, 300)).toEqual(want));

  const now = new Date("2026-03-01T00:00:00Z");
  test("start: from scheduled or queued to running on this server, this try only", () => {
    expect(startTransition({ id: 3, try_number: 2 }, "queued", now)).toEqual({
      id: 3,
      from: ["queued"],
      to: "running",
      try_number: 2,
      patch: { start_date: now, last_heartbeat: now, hostname: "inline", pid: null, executor: "inline", note: null },
    });
  });

  test("finish: the outcome with its end date and reason", () => {
    expect(finishTransition({ id: 3, try_number: 2 }, "running", "failed", "HTTP 418", now)).toEqual({
      id: 3,
      from: ["running"],
      to: "failed",
      try_number: 2,
      patch: { end_date: now, note: "HTTP 418" },
    });
  });

  test("an outcome write is tried 4 times by default: waits of 0.5, 1 and 2 s, then none", () => {
    expect([1, 2, 3, 4].map((a) => outcomeRetryDelayMs(a, 4))).toEqual([500, 1000, 2000, null]);
  });

  test("the http task of a try, or an error naming the version", () => {
    const spec = parseDagSpec({
      dag_id: "d",
      tasks: [
        { task_id: "h", operator: "http", http: { url: "http://x" } },
        { task_id: "b", operator: "bash", bash_command: "true" },
      ],
    });
    expect(httpTaskOf({ task_id: "h", dag_id: "d" }, { version_id: 4 }, spec).task_id).toBe("h");
    expect(() => httpTaskOf({ task_id: "b", dag_id: "d" }, { version_id: 4 }, spec)).toThrow(
      "task b is not an http task in version 4 of DAG d",
    );
  });
});

describe("routing", () => {
  const standard: Executor = { name: "subprocess", execute: async () => {} };
  const runner = new InlineRunner({ store: {} as InlineRunnerPort, logger: silentLogger, concurrency: 1, maxSeconds: 10, wake: () => {} });
  const router = new Router(standard, [runner.asExecutor()]);
  test("http tasks that reach the dispatcher go to the inline executor; others to the standard one", () => {
    expect(router.executorFor({ task_id: "h", operator: "http" }).name).toBe("inline");
    expect(router.executorFor({ task_id: "h", operator: "http", executor: "inline" }).name).toBe("inline");
    expect(router.executorFor({ task_id: "b", operator: "bash" }).name).toBe("subprocess");
    expect(() => router.executorFor({ task_id: "k", operator: "bash", executor: "kubernetes" })).toThrow(
      "task k needs the kubernetes executor, which this server does not run (available: subprocess, inline)",
    );
  });
});
