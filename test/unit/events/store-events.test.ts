/**
 * withStoreEvents: a state change that committed emits one event with the names a user knows; a write that
 * lost its race emits nothing; SSE frames them. Events are emitted after the write, off the writer's path, so
 * tests await the events themselves on a subscription (next()), in the order their writes committed.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../../src/domain/schemas";
import { openStore, type Store } from "../../../src/store";
import {
  EventHub,
  RunEnds,
  formatSse,
  matchesEventFilter,
  sseStream,
  withStoreEvents,
  type LeoflowEvent,
  type Subscription,
} from "../../../src/events";
import { buildDagRun } from "../../../src/scheduler";
import { overriding } from "../../../src/store/decorate";

const T0 = new Date("2026-01-01T00:00:00Z");
let raw: Store;
let store: Store;
let hub: EventHub;
beforeEach(async () => {
  raw = openStore("sqlite::memory:");
  await raw.migrate();
  hub = new EventHub();
  store = withStoreEvents(raw, hub);
});
afterEach(async () => store.close());

/** The subscription's events up to and including the first that `isLast` picks, without id and time. */
async function eventsUntil(sub: Subscription, isLast: (e: LeoflowEvent) => boolean): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (;;) {
    const e = await sub.next();
    if (!e) return out;
    const { id: _id, time: _time, ...rest } = e as LeoflowEvent & Record<string, unknown>;
    out.push(rest as Record<string, unknown>);
    if (isLast(e)) return out;
  }
}

async function aRun(runId = "r1") {
  const spec = parseDagSpec({ dag_id: "ev", tasks: [{ task_id: "a", operator: "bash", bash_command: "true" }] });
  const dag = await store.upsertDag("default", { spec, fileloc: "/dags/ev.json", pausedOnCreate: false, now: T0 });
  return store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null, run_id: runId }, T0));
}

describe("withStoreEvents", () => {
  test("run lifecycle and task transitions become events; lost races and same-state patches do not", async () => {
    const sub = hub.subscribe();
    const run = await aRun();
    const ti = (await store.getTaskInstance("default", "ev", "r1", "a"))!;
    await store.setDagRunState(run.id, ["queued"], "running", T0);
    await store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], T0);
    expect(await store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], T0)).toEqual([false]);
    await store.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "scheduled", patch: { note: "waiting" } }], T0);
    await store.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "failed", patch: { note: "dispatch_failed: x" } }], T0);
    await store.setDagRunState(run.id, ["running"], "failed", T0, "task(s) failed: a");
    expect(await store.setDagRunState(run.id, ["running"], "failed", T0)).toBe(false);
    // Events leave in commit order: once a later write's event arrives, the lost race before it had its chance.
    const end = await aRun("end");
    await store.setDagRunState(end.id, ["queued"], "running", T0);
    const seen = await eventsUntil(sub, (e) => e.run_id === "end" && e.type === "dag_run.started");
    expect(seen.filter((e) => e.run_id !== "end")).toEqual([
      { type: "dag_run.created", team: "default", dag_id: "ev", run_id: "r1", state: "queued" },
      { type: "dag_run.started", team: "default", dag_id: "ev", run_id: "r1", state: "running" },
      {
        type: "task_instance.state_changed",
        team: "default",
        dag_id: "ev",
        run_id: "r1",
        task_id: "a",
        map_index: -1,
        try_number: 1,
        state: "scheduled",
        note: null,
      },
      {
        type: "task_instance.state_changed",
        team: "default",
        dag_id: "ev",
        run_id: "r1",
        task_id: "a",
        map_index: -1,
        try_number: 1,
        state: "failed",
        note: "dispatch_failed: x",
      },
      { type: "dag_run.finished", team: "default", dag_id: "ev", run_id: "r1", state: "failed", note: "task(s) failed: a" },
    ]);
  });

  test("reaps and deferred launches are events too", async () => {
    const run = await aRun();
    const ti = (await store.getTaskInstance("default", "ev", "r1", "a"))!;
    await store.setDagRunState(run.id, ["queued"], "running", T0);
    await store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], T0);
    await store.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "queued", patch: { queued_at: T0 } }], T0);
    const sub = hub.subscribe({ filter: (e) => e.type.startsWith("task_instance.") });
    await store.recordDispatchFailure(ti.id, 1, "x", T0);
    await store.deferDispatch(ti.id, 1, new Date(T0.getTime() + 5000), "dispatch attempt 1/3 failed: x", T0);
    await store.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "queued", patch: { queued_at: T0 } }], T0);
    await store.reapTaskInstances(
      [{ id: ti.id, try_number: 1, from: "queued", observed_at: T0, to: "failed", note: "dispatch_lost: y" }],
      T0,
    );
    expect((await eventsUntil(sub, (e) => "state" in e && e.state === "failed")).map((e) => [e.state, e.note])).toEqual([
      ["scheduled", "dispatch attempt 1/3 failed: x"],
      ["queued", null],
      ["failed", "dispatch_lost: y"],
    ]);
  });

  test("an agent's start and end (startTry, finishTry) are one event each; a write that did not apply is none", async () => {
    const seen: [string, number | undefined][] = [];
    store = withStoreEvents(
      raw,
      hub,
      () => {},
      (n, t, now) => seen.push([`${t.from}→${t.to}`, now.getTime() - n.queued_at!.getTime()]),
    );
    await aRun();
    const ti = (await store.getTaskInstance("default", "ev", "r1", "a"))!;
    await store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], T0);
    await store.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "queued", patch: { queued_at: T0 } }], T0);
    const sub = hub.subscribe({ filter: (e) => e.type.startsWith("task_instance.") });
    const start = { id: ti.id, dag_id: "ev", run_id: "r1", task_id: "a", try_number: 1, hostname: "h", pid: 7 };
    const later = new Date(T0.getTime() + 3000);
    expect((await store.startTry(start, later))!.applied).toBe(true);
    expect((await store.startTry(start, later))!.applied).toBe(false);
    const end = { ...start, to: "failed" as const, note: "exit code 3", final: false };
    expect((await store.finishTry(end, new Date(T0.getTime() + 5000)))!.applied).toBe(true);
    expect((await store.finishTry(end, new Date(T0.getTime() + 6000)))!.applied).toBe(false);
    await store.applyTransitions([{ id: ti.id, from: ["failed"], to: "success" }], later);
    expect((await eventsUntil(sub, (e) => "state" in e && e.state === "success")).map((e) => [e.state, e.try_number, e.note])).toEqual([
      ["running", 1, null],
      ["failed", 1, "exit code 3"],
      ["success", 1, null],
    ]);
    expect(seen.slice(0, 2)).toEqual([
      ["queued→running", 3000],
      ["running→failed", 5000],
    ]);
  });

  test("a mapped task's instances are told apart by their map_index", async () => {
    store = withStoreEvents(raw, hub, () => {});
    await aRun();
    const each = (await store.getTaskInstance("default", "ev", "r1", "a"))!;
    expect(await store.expandTaskInstances([{ id: each.id, count: 2 }], T0)).toEqual([true]);
    const sub = hub.subscribe({ filter: (e) => e.type === "task_instance.state_changed" });
    const instances = (await store.listTaskInstances("default", "ev", "r1")).items.filter((t) => t.map_index >= 0);
    expect(instances.map((t) => t.map_index)).toEqual([0, 1]);
    await store.applyTransitions(
      instances.map((t) => ({ id: t.id, from: ["none" as const], to: "scheduled" as const })),
      T0,
    );
    const events = await eventsUntil(sub, (e) => "map_index" in e && e.map_index === 1);
    expect(events.map((e) => ("map_index" in e ? [e.task_id, e.map_index, e.state] : null))).toEqual([
      ["a", 0, "scheduled"],
      ["a", 1, "scheduled"],
    ]);
  });

  test("an agent's failure with retries left is one event, up_for_retry: a webhook that pages on failed is not paged", async () => {
    store = withStoreEvents(raw, hub, () => {});
    await aRun();
    const ti = (await store.getTaskInstance("default", "ev", "r1", "a"))!;
    await store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], T0);
    await store.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "queued", patch: { queued_at: T0, max_tries: 1 } }], T0);
    const start = { id: ti.id, dag_id: "ev", run_id: "r1", task_id: "a", try_number: 1, hostname: "h", pid: 7 };
    expect((await store.startTry(start, T0))!.applied).toBe(true);
    const sub = hub.subscribe({ filter: (e) => e.type.startsWith("task_instance.") });
    await store.finishTry({ ...start, to: "failed", note: "exit code 3", final: false }, new Date(T0.getTime() + 5000));
    await store.applyTransitions([{ id: ti.id, from: ["up_for_retry"], to: "success" }], T0);
    expect((await eventsUntil(sub, (e) => "state" in e && e.state === "success")).map((e) => [e.state, e.try_number, e.note])).toEqual([
      ["up_for_retry", 1, "exit code 3"],
      ["success", 1, null],
    ]);
  });

  test("an agent's success that queues its chain's next task: the end, then the next task's scheduled and queued", async () => {
    const spec = parseDagSpec({
      dag_id: "ev",
      tasks: [
        { task_id: "a", operator: "bash", bash_command: "true" },
        { task_id: "b", operator: "bash", bash_command: "true", upstream: ["a"] },
      ],
    });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/ev.json", pausedOnCreate: false, now: T0 });
    await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null, run_id: "r1" }, T0));
    const [a, b] = ["a", "b"].map((t) => store.getTaskInstance("default", "ev", "r1", t));
    const ti = (await a)!;
    const next = (await b)!;
    await store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], T0);
    await store.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "queued", patch: { queued_at: T0 } }], T0);
    const start = { id: ti.id, dag_id: "ev", run_id: "r1", task_id: "a", try_number: 1, hostname: "h", pid: 7 };
    await store.startTry(start, T0);
    const sub = hub.subscribe({ filter: (e) => e.type.startsWith("task_instance.") });
    const handOff = {
      scheduling: { id: next.id, from: ["none" as const], to: "scheduled" as const },
      queued: { id: next.id, from: ["scheduled" as const], to: "queued" as const, try_number: 1, patch: { queued_at: T0 } },
    };
    const res = await store.finishTry({ ...start, to: "success", note: null, final: false, next: handOff }, new Date(T0.getTime() + 2000));
    expect([res!.applied, res!.nextApplied]).toEqual([true, true]);
    const events = await eventsUntil(sub, (e) => "state" in e && e.state === "queued");
    expect(events.map((e) => [e.task_id, e.state])).toEqual([
      ["a", "success"],
      ["b", "scheduled"],
      ["b", "queued"],
    ]);
  });

  test("an inline try's end is an event in the state it was written: a refused XCom's try as failed, with the reason", async () => {
    await aRun();
    const ti = (await store.getTaskInstance("default", "ev", "r1", "a"))!;
    await store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], T0);
    await store.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "running", patch: { try_number: 1 } }], T0);
    const sub = hub.subscribe({ filter: (e) => e.type.startsWith("task_instance.") });
    const key = { team: "default", dag_id: "ev", run_id: "r1", task_id: "a", key: "return_value" };
    const [result] = await store.finishInlineTries(
      [
        {
          transition: { id: ti.id, from: ["running"], to: "success", try_number: 1 },
          lines: null,
          xcom: { key, value: "x".repeat(1024 * 1024) },
        },
      ],
      T0,
    );
    expect(result!.applied).toBe(true);
    const [event] = await eventsUntil(sub, () => true);
    expect(event).toMatchObject({ task_id: "a", state: "failed", note: result!.refused!.message });
  });

  test("a start riding on an inline end is its own events, after the end's: scheduled, then running", async () => {
    await aRun("r1");
    await aRun("r2");
    const a = (await store.getTaskInstance("default", "ev", "r1", "a"))!;
    const next = (await store.getTaskInstance("default", "ev", "r2", "a"))!;
    await store.applyTransitions([{ id: a.id, from: ["none"], to: "scheduled" }], T0);
    await store.applyTransitions([{ id: a.id, from: ["scheduled"], to: "running", patch: { try_number: 1 } }], T0);
    const sub = hub.subscribe({ filter: (e) => e.type.startsWith("task_instance.") });
    const [result] = await store.finishInlineTries(
      [
        {
          transition: { id: a.id, from: ["running"], to: "success", try_number: 1 },
          lines: null,
          xcom: null,
          nextScheduling: { id: next.id, from: ["none"], to: "scheduled" },
          next: { id: next.id, from: ["scheduled"], to: "running", patch: { start_date: T0 } },
          nextAfterSuccess: true,
        },
      ],
      T0,
    );
    expect(result!.nextApplied).toBe(true);
    const events = await eventsUntil(sub, (e) => "state" in e && e.state === "running");
    expect(events.map((e) => [e.run_id, e.state])).toEqual([
      ["r1", "success"],
      ["r2", "scheduled"],
      ["r2", "running"],
    ]);
  });

  test("runs created together are each an event; a run id already taken is none", async () => {
    const first = await aRun("r1");
    const dag = (await store.getDag("default", "ev"))!;
    const sub = hub.subscribe();
    const build = (run_id: string) => buildDagRun(dag, { run_type: "manual", logical_date: null, run_id }, T0);
    const created = await store.createDagRuns([build("r1"), build("r2"), build("r3")]);
    expect(created.map((r) => r?.run_id ?? null)).toEqual([null, "r2", "r3"]);
    await store.setDagRunState(first.id, ["queued"], "running", T0);
    expect(await eventsUntil(sub, (e) => e.type === "dag_run.started")).toEqual([
      { type: "dag_run.created", team: "default", dag_id: "ev", run_id: "r2", state: "queued" },
      { type: "dag_run.created", team: "default", dag_id: "ev", run_id: "r3", state: "queued" },
      { type: "dag_run.started", team: "default", dag_id: "ev", run_id: "r1", state: "running" },
    ]);
  });

  test("a task instance a woken tick read (loadTickReads) is named from that read: its first transition looks nothing up", async () => {
    const run = await aRun();
    const lookups: number[] = [];
    const counting = overriding(raw, { getTaskInstanceById: (id) => (lookups.push(id), raw.getTaskInstanceById(id)) });
    const watched = withStoreEvents(counting, hub);
    const sub = hub.subscribe({ filter: (e) => e.type.startsWith("task_instance.") });
    const { snapshots } = await watched.loadTickReads([run.id], [run.id]);
    const ti = snapshots[0]!.tis[0]!;
    await watched.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], T0);
    expect(await eventsUntil(sub, () => true)).toEqual([
      {
        type: "task_instance.state_changed",
        team: "default",
        dag_id: "ev",
        run_id: "r1",
        task_id: "a",
        map_index: -1,
        try_number: 1,
        state: "scheduled",
        note: null,
      },
    ]);
    expect(lookups).toEqual([]);
  });

  test("a run's end written here wakes its waiters at once (RunEnds), with or without a subscriber; other writes do not", async () => {
    const runEnds = new RunEnds();
    const told = withStoreEvents(raw, hub, () => {}, undefined, runEnds);
    const [a, b, c, d] = [await aRun("a"), await aRun("b"), await aRun("c"), await aRun("d")];
    await told.setDagRunState(d.id, ["queued"], "running", T0);
    const woke: string[] = [];
    const HOUR = 3_600_000;
    const waits = [a, b, c, d].map((r) => runEnds.wait(r, HOUR).then(() => woke.push(r.run_id)));
    await told.setDagRunState(a.id, ["queued"], "running", T0); // not an end
    await told.setDagRunStates(
      [
        { id: b.id, from: ["queued"], to: "success" },
        { id: c.id, from: ["running"], to: "failed" }, // did not apply: c is queued
      ],
      T0,
    );
    await told.reapOrphanedRun(d.id, "orphaned", T0);
    await Promise.race([Promise.all([waits[1], waits[3]]), Bun.sleep(2_000)]);
    expect(woke.sort()).toEqual(["b", "d"]);
    await told.setDagRunState(a.id, ["running"], "failed", T0);
    await told.setDagRunState(c.id, ["queued"], "success", T0);
    await Promise.race([Promise.all(waits), Bun.sleep(2_000)]);
    expect(woke.sort()).toEqual(["a", "b", "c", "d"]);
    expect(runEnds.watched).toBe(0);
    expect(hub.emitted).toBe(0); // nobody subscribed: no events, the waiters were told all the same
  });

  test("RunEnds.follow: a run another replica ends (its dag_run.finished event on the hub) wakes that run's waiters; the hub is subscribed only while a wait is open and the condition holds", async () => {
    const runEnds = new RunEnds();
    let followers = true;
    runEnds.follow(hub, () => followers);
    const run = (id: number) => ({ id, team: "default", dag_id: "etl", run_id: `r${id}` });
    const finished = (r: ReturnType<typeof run>, type = "dag_run.finished") =>
      hub.publish({ type, team: r.team, dag_id: r.dag_id, run_id: r.run_id, state: "success", id: r.id, time: T0.toISOString() } as never);
    expect(hub.wanted).toBe(false);
    const woke: number[] = [];
    const HOUR = 3_600_000;
    const waits = [run(1), run(2)].map((r) => runEnds.wait(r, HOUR).then(() => woke.push(r.id)));
    expect(runEnds.following).toBe(true);
    expect(hub.wanted).toBe(true);
    finished(run(1), "dag_run.started"); // not an end
    finished({ ...run(1), team: "other" }); // another team's run of the same names
    finished(run(3)); // a run no one waits on
    await Bun.sleep(10);
    expect(woke).toEqual([]);
    finished(run(2));
    await waits[1];
    expect(woke).toEqual([2]);
    finished(run(1));
    await waits[0];
    expect(woke).toEqual([2, 1]);
    expect(runEnds.watched).toBe(0);
    expect(runEnds.following).toBe(false);
    expect(hub.wanted).toBe(false);
    // Leading (the condition fails): no subscription, waits end by time or by a local end only.
    followers = false;
    const local = runEnds.wait(run(4), HOUR);
    expect(hub.wanted).toBe(false);
    runEnds.ended(4);
    await local;
  });

  test("RunEnds.wait resolves after its time when no end comes, and leaves nothing behind", async () => {
    const runEnds = new RunEnds();
    let done = false;
    const wait = runEnds.wait({ id: 7, team: "default", dag_id: "etl", run_id: "r7" }, 20).then(() => (done = true));
    runEnds.ended(8);
    expect(runEnds.watched).toBe(1);
    await wait;
    expect(done).toBe(true);
    expect(runEnds.watched).toBe(0);
  });

  test("with no subscriber nothing is looked up or emitted; the wrapped store still answers everything", async () => {
    const run = await aRun();
    expect(hub.emitted).toBe(0);
    expect((await store.getDagRunById(run.id))!.run_id).toBe("r1");
    expect((await store.listDagRuns("default")).total).toBe(1);
  });
});

describe("SSE", () => {
  const e: LeoflowEvent = { id: 7, time: "t", type: "dag_run.created", team: "default", dag_id: "etl", run_id: "r1", state: "queued" };

  test("formatSse frames one event", () => {
    expect(formatSse(e)).toBe(`id: 7\nevent: dag_run.created\ndata: ${JSON.stringify(e)}\n\n`);
  });

  test.each([
    [{}, true],
    [{ team: "default" }, true],
    // The same DAG id in another team is another DAG: its stream never carries this event.
    [{ team: "data-eng", dag_id: "etl" }, false],
    [{ dag_id: "etl" }, true],
    [{ dag_id: "other" }, false],
    [{ run_id: "r2" }, false],
    [{ types: ["dag_run."] }, true],
    [{ types: ["dag_run.created"] }, true],
    [{ types: ["task_instance.", "dag_run.finished"] }, false],
  ])("filter %j → %p", (f, ok) => expect(matchesEventFilter(e, f)).toBe(ok));

  test("the stream sends buffered events and reports what this client lost", async () => {
    const hub = new EventHub();
    const sub = hub.subscribe({ bufferSize: 1 });
    const reader = sseStream(sub, undefined, 60_000).getReader();
    const text = async () => new TextDecoder().decode((await reader.read()).value);
    expect(await text()).toBe(": leoflow events\nretry: 2000\n\n");
    hub.emit({ type: "dag_run.created", team: "default", dag_id: "etl", run_id: "r1", state: "queued" });
    // r1 goes straight to the waiting stream, r2 fills the one-event buffer, r3 is lost.
    hub.emit({ type: "dag_run.created", team: "default", dag_id: "etl", run_id: "r2", state: "queued" });
    hub.emit({ type: "dag_run.created", team: "default", dag_id: "etl", run_id: "r3", state: "queued" });
    const chunk = await text();
    expect(chunk.match(/^(id|event): .*$/gm)).toEqual([
      "id: 1",
      "event: dag_run.created",
      "id: 2",
      "event: dag_run.created",
      "event: dropped",
    ]);
    expect(chunk).toEndWith('event: dropped\ndata: {"dropped":1}\n\n');
    await reader.cancel();
    expect(hub.subscriberCount).toBe(0);
  });
});
