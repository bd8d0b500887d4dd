/**
 * createServerEvents on a real (in-memory SQLite) store, as Lite wires it: a state change becomes a row of
 * the event log and reaches a stream with the row's id; the SSE route resumes after a Last-Event-ID; closing
 * appends what is pending; retention prunes.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { Hono } from "hono";
import { parseDagSpec } from "../../../src/domain/schemas";
import { openStore, type Store } from "../../../src/store";
import { createLogger } from "../../../src/observability";
import { EventHub, createServerEvents, eventRoutes, withStoreEvents, type EventSink, type ServerEvents } from "../../../src/events";
import { buildDagRun } from "../../../src/scheduler";

const T0 = new Date("2026-01-01T00:00:00Z");
let raw: Store;
let store: Store;
let hub: EventHub;
let events: ServerEvents;
/** Events the store wrapper has handed the log so far, and who waits for how many. */
let handed = 0;
let waiting: { n: number; resolve: () => void }[] = [];
beforeEach(async () => {
  raw = openStore("sqlite::memory:");
  await raw.migrate();
  hub = new EventHub();
  events = createServerEvents({ store: raw, hub, logger: createLogger("test", "error") });
  // The log, counting: the wrapper emits after the write returns, and a test awaits those events themselves.
  [handed, waiting] = [0, []];
  const log = events.log;
  const counting: EventSink = {
    emit(e) {
      log.emit(e);
      handed++;
      waiting = waiting.filter((w) => (w.n <= handed ? (w.resolve(), false) : true));
    },
  };
  store = withStoreEvents(raw, counting);
  await events.start();
});
afterEach(async () => {
  await events.close();
  await raw.close();
});

async function runWithTwoChanges(runId: string) {
  const spec = parseDagSpec({ dag_id: "ev", tasks: [{ task_id: "a", operator: "bash", bash_command: "true" }] });
  const dag = await store.upsertDag("default", { spec, fileloc: "/dags/ev.json", pausedOnCreate: false, now: T0 });
  const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null, run_id: runId }, T0));
  await store.setDagRunState(run.id, ["queued"], "running", T0);
  await store.setDagRunState(run.id, ["running"], "success", T0);
}
/** Waits until the store wrapper has emitted `total` events in all, the log has appended them and the feed has passed them on. */
const settle = async (total: number) => {
  if (handed < total) await new Promise<void>((resolve) => waiting.push({ n: total, resolve }));
  await events.log.settled();
  await events.feed.idle();
};

test("a state change becomes a log row, even with no stream open, and reaches a stream with the row's id", async () => {
  await runWithTwoChanges("before"); // nobody listens: still logged, for clients that resume later
  await settle(3);
  expect((await raw.readEventsAfter(0, 10)).map((r) => [r.id, r.event.type])).toEqual([
    [1, "dag_run.created"],
    [2, "dag_run.started"],
    [3, "dag_run.finished"],
  ]);
  const sub = hub.subscribe();
  await runWithTwoChanges("after");
  await settle(6);
  const got = [sub.poll(), sub.poll(), sub.poll(), sub.poll()].filter(Boolean).map((e) => [e!.id, e!.type, e!.run_id]);
  expect(got).toEqual([
    [4, "dag_run.created", "after"],
    [5, "dag_run.started", "after"],
    [6, "dag_run.finished", "after"],
  ]);
});

test("the SSE route replays after Last-Event-ID from the log", async () => {
  await runWithTwoChanges("r1");
  await settle(3);
  const app = new Hono().route(
    "/",
    eventRoutes(hub, () => "default"),
  );
  const ctl = new AbortController();
  const res = await app.request("/leoflow/events", { headers: { "last-event-id": "1" }, signal: ctl.signal });
  const reader = res.body!.getReader();
  let text = "";
  while ((text.match(/^id: /gm) ?? []).length < 2) text += new TextDecoder().decode((await reader.read()).value);
  expect(text.match(/^id: \d+$/gm)).toEqual(["id: 2", "id: 3"]);
  ctl.abort();
  await reader.cancel();
});

test("close appends what is pending; retention prunes rows past the age limit", async () => {
  for (let i = 0; i < 3; i++) events.log.emit({ type: "dag_run.created", team: "default", dag_id: "d", run_id: `r${i}`, state: "queued" });
  await events.close();
  expect(await raw.lastEventId()).toBe(3);
  expect(await events.prune(new Date(Date.now() + 25 * 3600_000))).toBe(3); // a day later: older than the 24 h default
  expect(await raw.readEventsAfter(0, 10)).toEqual([]);
});
