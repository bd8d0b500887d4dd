/**
 * Store contract for webhooks (issue 20): team-scoped subscriptions, and the outbox written by the state
 * change itself: when applyTransitions / setDagRunState / a reap returns, its delivery rows are already
 * committed with it (nothing is appended later, so a crash cannot lose them); rows go only to enabled
 * webhooks of the row's team whose types and DAG filter match; claims are exclusive until their lease ends;
 * failures end dead with the last error, and a dead delivery can be redelivered.
 */
import { describe, expect, test } from "bun:test";
import type { WebhookInput } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";
import { newRun, T0 } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);
const hook = (over: Partial<WebhookInput> = {}): WebhookInput => ({
  url: "http://127.0.0.1:9/hook",
  event_types: ["task_instance.state_changed"],
  secret: "0123456789abcdef",
  ...over,
});

async function runOf(store: Store, team: string, dagId: string, runId = "r1") {
  if (team !== "default") await store.ensureTeam(team, T0);
  const dag = await store.upsertDag(team, {
    spec: parseDagSpec({ dag_id: dagId, tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] }),
    fileloc: `/dags/${dagId}.json`,
    pausedOnCreate: false,
    now: T0,
  });
  const run = await store.createDagRun(newRun(dag, runId));
  const ti = (await store.listTaskInstances(team, dagId, runId)).items[0]!;
  return { run, ti };
}

const deliveries = async (store: Store, team: string, webhookId: number) =>
  (await store.listWebhookDeliveries(team, webhookId)).items.reverse();

export function webhooksContract(getStore: () => Store): void {
  describe("webhooks", () => {
    test("subscriptions are the team's own: created, listed, updated, deleted; records carry no secret", async () => {
      const store = getStore();
      await store.ensureTeam("blue", T0);
      const w = await store.createWebhook("default", hook({ dag_ids: ["etl"], description: "ops" }), at(1));
      expect(w).toEqual({
        id: w.id,
        team: "default",
        url: "http://127.0.0.1:9/hook",
        event_types: ["task_instance.state_changed"],
        dag_ids: ["etl"],
        enabled: true,
        description: "ops",
        created_at: at(1),
        updated_at: at(1),
      });
      expect(await store.listWebhooks("default")).toEqual([w]);
      expect(await store.listWebhooks("blue")).toEqual([]);
      expect(await store.getWebhook("blue", w.id)).toBeNull();
      expect(await store.updateWebhook("blue", w.id, { enabled: false }, at(2))).toBeNull();
      const off = await store.updateWebhook("default", w.id, { enabled: false, dag_ids: null }, at(2));
      expect(off).toMatchObject({ enabled: false, dag_ids: null, updated_at: at(2), created_at: at(1) });
      expect(await store.deleteWebhook("blue", w.id)).toBe(false);
      expect(await store.deleteWebhook("default", w.id)).toBe(true);
      expect(await store.getWebhook("default", w.id)).toBeNull();
    });

    test("a batch moving one task instance twice (an inline start: none → scheduled → running) applies and announces each step", async () => {
      const store = getStore();
      const { ti } = await runOf(store, "default", "etl");
      const { ti: raced } = await runOf(store, "default", "reports");
      await store.applyTransitions([{ id: raced.id, from: ["none"], to: "scheduled" }], at(1)); // already scheduled
      const all = await store.createWebhook("default", hook(), at(0));
      const start = (id: number) => ({
        id,
        from: ["scheduled" as const],
        to: "running" as const,
        try_number: 1,
        patch: { start_date: at(5), hostname: "inline" },
      });
      const schedule = (id: number) => ({ id, from: ["none" as const], to: "scheduled" as const, try_number: 1 });
      const applied = await store.applyTransitions([schedule(ti.id), schedule(raced.id), start(ti.id), start(raced.id)], at(5));
      // The second schedule lost its race, yet its start sees the row as the first write left it: scheduled.
      expect(applied).toEqual([true, false, true, true]);
      for (const id of [ti.id, raced.id])
        expect(await store.getTaskInstanceById(id)).toMatchObject({ state: "running", start_date: at(5), hostname: "inline" });
      const rows = await deliveries(store, "default", all.id);
      expect(rows.map((d) => [d.event.dag_id, d.event.state])).toEqual([
        ["etl", "scheduled"],
        ["etl", "running"],
        ["reports", "running"],
      ]);
    });

    test("a transition's outbox rows are committed when it returns: matching team, type and DAG only", async () => {
      const store = getStore();
      const { ti } = await runOf(store, "default", "etl");
      const { ti: other } = await runOf(store, "default", "reports");
      const { ti: blueTi } = await runOf(store, "blue", "etl");
      const all = await store.createWebhook("default", hook(), at(0));
      const etlOnly = await store.createWebhook("default", hook({ dag_ids: ["etl"] }), at(0));
      const runsOnly = await store.createWebhook("default", hook({ event_types: ["dag_run.finished"] }), at(0));
      const disabled = await store.createWebhook("default", hook({ enabled: false, event_types: ["*"] }), at(0));
      const blue = await store.createWebhook("blue", hook(), at(0));

      const applied = await store.applyTransitions(
        [
          { id: ti.id, from: ["none"], to: "scheduled" },
          { id: other.id, from: ["none"], to: "scheduled" },
          { id: blueTi.id, from: ["running"], to: "success" }, // lost race: it is `none`
        ],
        at(5),
      );
      expect(applied).toEqual([true, true, false]);

      const rows = await deliveries(store, "default", all.id);
      expect(rows.map((d) => d.event)).toEqual([
        {
          type: "task_instance.state_changed",
          team: "default",
          dag_id: "etl",
          run_id: "r1",
          task_id: "t",
          map_index: -1,
          try_number: 1,
          state: "scheduled",
          note: null,
          time: at(5).toISOString(),
        },
        {
          type: "task_instance.state_changed",
          team: "default",
          dag_id: "reports",
          run_id: "r1",
          task_id: "t",
          map_index: -1,
          try_number: 1,
          state: "scheduled",
          note: null,
          time: at(5).toISOString(),
        },
      ]);
      expect(rows[0]).toMatchObject({ state: "pending", attempts: 0, next_attempt_at: at(5), event_type: "task_instance.state_changed" });
      expect((await deliveries(store, "default", etlOnly.id)).map((d) => d.event.dag_id)).toEqual(["etl"]);
      expect(await deliveries(store, "default", runsOnly.id)).toEqual([]);
      expect(await deliveries(store, "default", disabled.id)).toEqual([]);
      expect(await deliveries(store, "blue", blue.id)).toEqual([]);
      // Another team never sees them.
      expect((await store.listWebhookDeliveries("blue", all.id)).items).toEqual([]);
    });

    test("run state changes, batched run changes and reaps write their rows too", async () => {
      const store = getStore();
      const { run, ti } = await runOf(store, "default", "etl");
      const w = await store.createWebhook("default", hook({ event_types: ["*"] }), at(0));
      await store.setDagRunState(run.id, ["queued"], "running", at(1));
      await store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], at(2));
      await store.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "queued" }], at(2));
      await store.applyTransitions([{ id: ti.id, from: ["queued"], to: "running" }], at(3));
      await store.reapTaskInstances(
        [{ id: ti.id, try_number: 1, from: "running", observed_at: null, to: "failed", note: "agent lost" }],
        at(4),
      );
      await store.setDagRunStates([{ id: run.id, from: ["running"], to: "failed", note: "task failed" }], at(5));
      const events = (await deliveries(store, "default", w.id)).map((d) => [d.event.type, d.event.state, d.event.note ?? null]);
      expect(events).toEqual([
        ["dag_run.started", "running", null],
        ["task_instance.state_changed", "scheduled", null],
        ["task_instance.state_changed", "queued", null],
        ["task_instance.state_changed", "running", null],
        ["task_instance.state_changed", "failed", "agent lost"],
        ["dag_run.finished", "failed", "task failed"],
      ]);
    });

    test("an operator action (mark, clear) writes the rows of what it changed, in its transaction", async () => {
      const store = getStore();
      const { run, ti } = await runOf(store, "default", "etl");
      await store.setDagRunState(run.id, ["queued"], "running", at(1));
      await store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], at(1));
      const w = await store.createWebhook("default", hook({ event_types: ["*"] }), at(2));
      const marked = await store.applyOperatorChange(
        {
          transitions: [{ id: ti.id, from: ["scheduled"], to: "failed", patch: { note: "marked by ada" } }],
          runs: [{ id: run.id, from: ["running"], to: "failed" }],
        },
        at(3),
      );
      expect(marked).toEqual({ transitions: [true], clears: [], runs: [true], user_notes: [] });
      const tryNumber = (await store.getTaskInstanceById(ti.id))!.try_number;
      const cleared = await store.applyOperatorChange(
        {
          clears: [{ id: ti.id, from: "failed", from_try: tryNumber, try_number: tryNumber, max_tries: 0 }],
          runs: [{ id: run.id, from: ["failed"], to: "queued" }],
        },
        at(4),
      );
      expect(cleared).toEqual({ transitions: [], clears: [true], runs: [true], user_notes: [] });
      expect((await deliveries(store, "default", w.id)).map((d) => [d.event.type, d.event.state])).toEqual([
        ["task_instance.state_changed", "failed"],
        ["dag_run.finished", "failed"],
        ["task_instance.state_changed", "none"],
        ["dag_run.state_changed", "queued"],
      ]);
    });

    test("without a webhook no row is written; one created later sees only later changes", async () => {
      const store = getStore();
      const { ti } = await runOf(store, "default", "etl");
      await store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], at(1));
      const w = await store.createWebhook("default", hook(), at(2));
      expect(await deliveries(store, "default", w.id)).toEqual([]);
      await store.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "queued" }], at(3));
      expect((await deliveries(store, "default", w.id)).map((d) => d.event.state)).toEqual(["queued"]);
    });

    test("events raised outside a write go to the matching webhooks; a team-less one to every team", async () => {
      const store = getStore();
      await store.ensureTeam("blue", T0);
      const w = await store.createWebhook(
        "default",
        hook({ event_types: ["task_instance.dead_lettered", "scheduler.leader_changed"] }),
        at(0),
      );
      const b = await store.createWebhook("blue", hook({ event_types: ["scheduler.leader_changed"] }), at(0));
      const n = await store.enqueueWebhookEvents(
        [
          { type: "task_instance.dead_lettered", team: "default", dag_id: "etl", run_id: "r1", task_id: "t", error: "no docker" },
          { type: "task_instance.dead_lettered", team: "blue", dag_id: "etl", run_id: "r1", task_id: "t", error: "x" },
          { type: "scheduler.leader_changed", leader: "host-a" },
        ],
        at(1),
      );
      expect(n).toBe(3);
      expect((await deliveries(store, "default", w.id)).map((d) => d.event_type)).toEqual([
        "task_instance.dead_lettered",
        "scheduler.leader_changed",
      ]);
      expect((await deliveries(store, "blue", b.id)).map((d) => d.event)).toEqual([{ type: "scheduler.leader_changed", leader: "host-a" }]);
      expect(await store.enqueueWebhookDelivery("blue", w.id, { type: "webhook.ping" }, at(2))).toBeNull();
      expect(await store.enqueueWebhookDelivery("default", w.id, { type: "webhook.ping" }, at(2))).toBeNumber();
    });

    test("a claim is exclusive until its lease ends; retries wait; the last failure is dead; redeliver re-queues", async () => {
      const store = getStore();
      const w = await store.createWebhook("default", hook({ event_types: ["*"] }), at(0));
      const id = (await store.enqueueWebhookDelivery("default", w.id, { type: "webhook.ping" }, at(0)))!;

      const [first] = await store.claimWebhookDeliveries(at(1), 10, 30_000);
      expect(first).toMatchObject({ id, attempts: 1, url: w.url, secret: "0123456789abcdef", event: { type: "webhook.ping" } });
      expect(await store.claimWebhookDeliveries(at(2), 10, 30_000)).toEqual([]); // leased to the first claimer
      const [again] = await store.claimWebhookDeliveries(at(32), 10, 30_000); // lease over (the claimer died)
      expect(again).toMatchObject({ id, attempts: 2 });
      // The first claimer comes back late: its result is refused.
      expect(await store.finishWebhookDelivery(id, 1, { kind: "delivered", status: 200 }, at(33))).toBe(false);
      expect(await store.finishWebhookDelivery(id, 2, { kind: "retry", at: at(40), status: 500, error: "HTTP 500" }, at(33))).toBe(true);
      expect(await store.claimWebhookDeliveries(at(39), 10, 30_000)).toEqual([]);
      const [third] = await store.claimWebhookDeliveries(at(40), 10, 30_000);
      expect(third!.attempts).toBe(3);
      expect(await store.finishWebhookDelivery(id, 3, { kind: "dead", status: null, error: "connection refused" }, at(41))).toBe(true);

      const dead = (await store.listWebhookDeliveries("default", w.id, { state: "dead" })).items;
      expect(dead).toMatchObject([{ id, state: "dead", attempts: 3, last_status: null, last_error: "connection refused" }]);
      expect(await store.claimWebhookDeliveries(at(100), 10, 30_000)).toEqual([]);
      expect(await store.redeliverWebhookDelivery("blue", id, at(50))).toBeNull();
      expect(await store.redeliverWebhookDelivery("default", id, at(50))).toMatchObject({
        state: "pending",
        attempts: 0,
        next_attempt_at: at(50),
      });
      expect(await store.redeliverWebhookDelivery("default", id, at(50))).toBeNull(); // already pending
      const [re] = await store.claimWebhookDeliveries(at(50), 10, 30_000);
      expect(await store.finishWebhookDelivery(id, re!.attempts, { kind: "delivered", status: 204 }, at(51))).toBe(true);
      expect((await store.listWebhookDeliveries("default", w.id)).items[0]).toMatchObject({
        state: "delivered",
        last_status: 204,
        last_error: null,
        delivered_at: at(51),
      });
    });

    test("two workers claiming at once split the due rows: none is claimed twice", async () => {
      const store = getStore();
      const w = await store.createWebhook("default", hook(), at(0));
      for (let i = 0; i < 12; i++) await store.enqueueWebhookDelivery("default", w.id, { type: "webhook.ping", n: i }, at(0));
      const [a, b] = await Promise.all([store.claimWebhookDeliveries(at(1), 8, 30_000), store.claimWebhookDeliveries(at(1), 8, 30_000)]);
      const ids = [...a!, ...b!].map((d) => d.id);
      expect(ids.length).toBe(12);
      expect(new Set(ids).size).toBe(12);
    });

    test("a disabled webhook's deliveries wait until it is enabled again", async () => {
      const store = getStore();
      const w = await store.createWebhook("default", hook(), at(0));
      const id = await store.enqueueWebhookDelivery("default", w.id, { type: "webhook.ping" }, at(0));
      await store.updateWebhook("default", w.id, { enabled: false }, at(1));
      expect(await store.claimWebhookDeliveries(at(2), 10, 1000)).toEqual([]);
      await store.updateWebhook("default", w.id, { enabled: true }, at(3));
      expect((await store.claimWebhookDeliveries(at(4), 10, 1000)).map((d) => d.id)).toEqual([id!]);
    });

    test("deleting a webhook deletes its deliveries", async () => {
      const store = getStore();
      const w = await store.createWebhook("default", hook(), at(0));
      await store.enqueueWebhookDelivery("default", w.id, { type: "webhook.ping" }, at(0));
      await store.deleteWebhook("default", w.id);
      expect(await store.claimWebhookDeliveries(at(1), 10, 1000)).toEqual([]);
    });
  });
}
