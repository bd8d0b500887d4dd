import { expect, test } from "bun:test";
import { webhookEventSink, type NewEvent } from "../../../src/events";

const T = new Date("2026-01-01T00:00:00Z");

test("dead letters are queued for webhooks as they are emitted; state changes are left to the store's outbox", async () => {
  const inner: NewEvent[] = [];
  const queued: [Record<string, unknown>[], Date][] = [];
  const sink = webhookEventSink(
    { emit: (e) => void inner.push(e) },
    { enqueueWebhookEvents: async (events, now) => (queued.push([events, now]), 1) },
    () => {},
    () => T,
  );
  const dead: NewEvent = {
    type: "task_instance.dead_lettered",
    team: "default",
    dag_id: "etl",
    run_id: "r1",
    task_id: "t",
    try_number: 1,
    attempts: 3,
    error: "spawn ENOENT",
  };
  const moved: NewEvent = {
    type: "task_instance.state_changed",
    team: "default",
    dag_id: "etl",
    run_id: "r1",
    task_id: "t",
    map_index: -1,
    try_number: 1,
    state: "failed",
    note: null,
  };
  sink.emit(dead);
  sink.emit(moved);
  expect(inner).toEqual([dead, moved]);
  expect(queued).toEqual([[[{ ...dead, time: T.toISOString() }], T]]);
});

test("a store that refuses the queueing is reported, never thrown at the emitter", async () => {
  const errors: unknown[] = [];
  const sink = webhookEventSink({ emit() {} }, { enqueueWebhookEvents: () => Promise.reject(new Error("database is locked")) }, (e) =>
    errors.push(e),
  );
  expect(() =>
    sink.emit({
      type: "task_instance.dead_lettered",
      team: "default",
      dag_id: "etl",
      run_id: "r1",
      task_id: "t",
      try_number: 1,
      attempts: 3,
      error: "x",
    }),
  ).not.toThrow();
  await Bun.sleep(0);
  expect(errors.map(String)).toEqual(["Error: database is locked"]);
});

test("the callback runner's missed deadlines and failed callbacks are queued for webhooks too", async () => {
  const queued: Record<string, unknown>[] = [];
  const sink = webhookEventSink(
    { emit() {} },
    { enqueueWebhookEvents: async (events) => (queued.push(...events), events.length) },
    () => {},
    () => T,
  );
  const missed: NewEvent = { type: "dag_run.deadline_missed", team: "default", dag_id: "etl", run_id: "r1", deadline: T.toISOString() };
  const failed: NewEvent = {
    type: "callback.failed",
    team: "default",
    dag_id: "etl",
    run_id: "r1",
    task_id: null,
    callback: "on_failure[0]",
    error: "HTTP 500",
  };
  sink.emit(missed);
  sink.emit(failed);
  expect(queued).toEqual([
    { ...missed, time: T.toISOString() },
    { ...failed, time: T.toISOString() },
  ]);
});
