import { expect, test } from "bun:test";
import { deadlineAt, hasTaskCallbacks, selectCallbacks, ValidationError, type CallbackTrigger } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";

const hook = (name: string) => ({ http: { url: `http://example.test/${name}` } });

const spec = parseDagSpec({
  dag_id: "cb",
  default_args: { on_failure_callback: hook("default-failure") },
  on_success_callback: hook("dag-success"),
  on_failure_callback: [hook("dag-failure-1"), { notifier: "slack", connection_id: "chat", message: "{{ dag.dag_id }} failed" }],
  tasks: [
    {
      task_id: "a",
      operator: "bash",
      bash_command: "true",
      retries: 1,
      on_execute_callback: hook("a-execute"),
      on_retry_callback: hook("a-retry"),
    },
    {
      task_id: "b",
      operator: "bash",
      bash_command: "true",
      on_success_callback: hook("b-success"),
      on_failure_callback: hook("b-failure"),
    },
    { task_id: "c", operator: "bash", bash_command: "true", on_success_callback: { ts: "alerts/notify.ts:onSuccess" } },
    { task_id: "done", operator: "empty", on_execute_callback: hook("done-execute"), on_success_callback: hook("done-success") },
  ],
});

const urls = (trigger: CallbackTrigger) =>
  selectCallbacks(spec, trigger).map(
    (s) =>
      `${s.kind}:${s.task_id ?? "dag"}:${"http" in s.callback ? s.callback.http.url.split("/").pop() : "ts" in s.callback ? s.callback.ts : s.callback.notifier}`,
  );

test.each<[string, CallbackTrigger, string[]]>([
  ["a try starts: on_execute", { task_id: "a", state: "running", try_number: 1 }, ["on_execute_callback:a:a-execute"]],
  ["a retry: on_retry", { task_id: "a", state: "up_for_retry", try_number: 1 }, ["on_retry_callback:a:a-retry"]],
  ["a failed try that will be retried calls no on_failure", { task_id: "a", state: "failed", try_number: 1 }, []],
  [
    "the last try failed, no own callback: default_args'",
    { task_id: "a", state: "failed", try_number: 2 },
    ["on_failure_callback:a:default-failure"],
  ],
  ["the task's own callback wins over default_args", { task_id: "b", state: "failed", try_number: 1 }, ["on_failure_callback:b:b-failure"]],
  ["success", { task_id: "b", state: "success", try_number: 1 }, ["on_success_callback:b:b-success"]],
  ["a ts callback", { task_id: "c", state: "success", try_number: 1 }, ["on_success_callback:c:alerts/notify.ts:onSuccess"]],
  ["no callback for that state", { task_id: "a", state: "success", try_number: 1 }, []],
  [
    "an empty task's success: on_execute, then on_success (it never runs)",
    { task_id: "done", state: "success", try_number: 1 },
    ["on_execute_callback:done:done-execute", "on_success_callback:done:done-success"],
  ],
  ["upstream_failed calls nothing (Airflow)", { task_id: "b", state: "upstream_failed", try_number: 1 }, []],
  ["skipped calls nothing", { task_id: "b", state: "skipped", try_number: 1 }, []],
  ["queued calls nothing", { task_id: "a", state: "queued", try_number: 1 }, []],
  ["an unknown task calls nothing", { task_id: "gone", state: "failed", try_number: 1 }, []],
  ["a run that succeeded: the DAG's on_success", { state: "success" }, ["on_success_callback:dag:dag-success"]],
  [
    "a run that failed: each of the DAG's on_failure, in order",
    { state: "failed" },
    ["on_failure_callback:dag:dag-failure-1", "on_failure_callback:dag:slack"],
  ],
  ["a run that started calls nothing", { state: "running" }, []],
])("%s", (_, trigger, expected) => {
  expect(urls(trigger)).toEqual(expected);
});

test("deadline: after seconds past the logical date, queued_at without one, or queued_at when asked", () => {
  const run = { logical_date: new Date("2026-03-01T00:00:00Z"), queued_at: new Date("2026-03-01T06:00:00Z") };
  expect(deadlineAt({ after: 3600, reference: "logical_date" }, run).toISOString()).toBe("2026-03-01T01:00:00.000Z");
  expect(deadlineAt({ after: 3600, reference: "queued_at" }, run).toISOString()).toBe("2026-03-01T07:00:00.000Z");
  expect(deadlineAt({ after: 60, reference: "logical_date" }, { ...run, logical_date: null }).toISOString()).toBe(
    "2026-03-01T06:01:00.000Z",
  );
});

test("a malformed callback is refused at load, naming where it is and the forms it may take", () => {
  const bad = () =>
    parseDagSpec({
      dag_id: "x",
      tasks: [{ task_id: "t", operator: "bash", bash_command: "true", on_failure_callback: { notifier: "pager" } }],
    });
  expect(bad).toThrow(ValidationError);
  expect(bad).toThrow(/on_failure_callback/);
  expect(bad).toThrow(/notifier: "slack"/);
  const badTs = () =>
    parseDagSpec({
      dag_id: "x",
      tasks: [{ task_id: "t", operator: "bash", bash_command: "true", on_success_callback: { ts: "notify.py:go" } }],
    });
  expect(badTs).toThrow(/on_success_callback/);
  expect(() =>
    parseDagSpec({
      dag_id: "x",
      deadline: { after: 0, callback: hook("late") },
      tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }],
    }),
  ).toThrow(/deadline\.after/);
});

test("hasTaskCallbacks: any task's callback field (one from default_args included) counts; the DAG's own do not", () => {
  expect(hasTaskCallbacks(spec)).toBe(true);
  const plain = (extra: Record<string, unknown>) =>
    parseDagSpec({ dag_id: "plain", ...extra, tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] });
  expect(hasTaskCallbacks(plain({}))).toBe(false);
  expect(hasTaskCallbacks(plain({ on_success_callback: hook("dag-only") }))).toBe(false);
  expect(hasTaskCallbacks(plain({ default_args: { on_retry_callback: hook("every-task") } }))).toBe(true);
});
