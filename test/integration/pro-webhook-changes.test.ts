/**
 * Pro: a webhook created through one replica applies to another replica's outbox writes as soon as the wake
 * bus's NOTIFY arrives, not at the 5 s re-read. Two stores on one schema, two wake buses on one channel,
 * as two replicas have.
 */
import { afterAll, expect, test } from "bun:test";
import { parseDagSpec } from "../../src/domain/schemas";
import { PostgresStore } from "../../src/store/postgres";
import { PgWakeBus, wakeChannelFor, webhookChangeRelay } from "../../src/events";
import { silentLogger, type Logger } from "../../src/observability";
import { describePg, freshSchema, pgUrl } from "../support/postgres";
import { newRun, T0 } from "../store/contract-fixtures";
import { waitFor } from "../e2e/harness";

describePg("webhook changes across Pro replicas", () => {
  const schema = freshSchema();
  const opened: { close(): Promise<void> }[] = [];
  afterAll(async () => void (await Promise.all(opened.map((o) => o.close()))));

  const replica = async () => {
    const store = new PostgresStore({ url: pgUrl(), schema, max: 2 });
    await store.migrate();
    const bus = new PgWakeBus({ url: pgUrl(), channel: wakeChannelFor(schema), logger: silentLogger as Logger });
    opened.push(bus, store);
    let refreshes = 0;
    const counted = { refreshWebhookInterest: async () => void (await store.refreshWebhookInterest(), refreshes++) };
    const relay = webhookChangeRelay(bus, counted, (e) => {
      throw e;
    });
    await bus.start();
    // The listener's connect re-reads once by itself (notifications may have been missed): let it finish.
    await waitFor(
      () => refreshes >= 1,
      5_000,
      () => "the listener never connected",
    );
    return { store, relay, refreshes: () => refreshes };
  };

  test("a webhook created on replica A is in replica B's next transition's outbox once A announced it", async () => {
    const a = await replica();
    const b = await replica();
    const dag = await a.store.upsertDag("default", {
      spec: parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] }),
      fileloc: "/dags/etl.json",
      pausedOnCreate: false,
      now: T0,
    });
    await a.store.createDagRun(newRun(dag, "r1"));
    const ti = (await b.store.listTaskInstances("default", "etl", "r1")).items[0]!;

    const w = await a.store.createWebhook(
      "default",
      { url: "http://127.0.0.1:9/hook", event_types: ["task_instance.state_changed"], secret: "0123456789abcdef" },
      T0,
    );
    // Unannounced, B still believes no webhook wants task events: its write queues nothing.
    await b.store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], T0);
    expect((await a.store.listWebhookDeliveries("default", w.id)).total).toBe(0);

    const before = b.refreshes();
    a.relay.changed();
    await waitFor(
      () => b.refreshes() > before,
      5_000,
      () => "replica B never re-read the webhooks",
    );
    await b.store.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "queued" }], T0);
    expect((await a.store.listWebhookDeliveries("default", w.id)).items.map((d) => d.event.state)).toEqual(["queued"]);
  });
});
