/** Which tasks run inline, the duration cap (at start and at DAG load), the XCom value of a response, routing. */
import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../../src/domain";
import { InlineRunner, Router, acceptsInline, admitInlineTasks, attemptLine, inlineDurationProblem, responseValue, type Executor } from "../../../src/executors";
import { silentLogger } from "../../../src/observability";
import type { Store } from "../../../src/store";

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
      { path: "tasks[1]", message: "task slow: execution_timeout 1000s is over the inline task cap of 300s; lower it or start the server with a larger --inline-max-seconds" },
    ]);
  });
});

describe("responseValue", () => {
  test.each([
    [{ body: '{"a":1}', contentType: "application/json" }, { value: { a: 1 }, kind: "json" }],
    [{ body: '{"a":1}', contentType: "application/problem+json" }, { value: { a: 1 }, kind: "json" }],
    [{ body: "[1,2]", contentType: "application/json; charset=utf-8" }, { value: [1, 2], kind: "json" }],
    [{ body: '{"a":1}', contentType: "text/plain" }, { value: '{"a":1}', kind: "text" }],
    [{ body: "not json", contentType: "application/json" }, { value: "not json", kind: "text" }],
    [{ body: "", contentType: "application/json" }, null],
  ])("%j", (res, want) => expect(responseValue(res)).toEqual(want as never));
});

test("attempt log lines: method, safe URL, outcome, duration, next retry", () => {
  expect(attemptLine("GET", "http://h/x?token=***", 4, { attempt: 2, status: 503, error: null, durationMs: 12, retryInMs: 2000 })).toBe(
    "attempt 2/4: GET http://h/x?token=*** -> HTTP 503 in 12 ms; retrying in 2000 ms",
  );
  expect(attemptLine("POST", "http://h", 1, { attempt: 1, status: null, error: "timed out after 5s", durationMs: 5001, retryInMs: null })).toBe(
    "attempt 1/1: POST http://h -> timed out after 5s in 5001 ms",
  );
});

describe("routing", () => {
  const standard: Executor = { name: "subprocess", execute: async () => {} };
  const runner = new InlineRunner({ store: {} as Store, logger: silentLogger, concurrency: 1, maxSeconds: 10, wake: () => {} });
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
