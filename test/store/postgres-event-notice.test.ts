/**
 * A Postgres event append tells the other replicas itself (EventAppendNotice): the NOTIFY goes out with the
 * append's commit, in its statement, carrying the newest id the append took. What another replica's feed
 * learns from it is in test/integration/pro-events.test.ts; here, what arrives on the channel.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { channelFor, EVENTS_CHANNEL } from "../../src/events";
import { PostgresStore } from "../../src/store/postgres";
import type { Pool } from "../../src/store/postgres/client";
import { postgresDriver } from "../../src/store/postgres/driver";
import { appendEvents } from "../../src/store/postgres/events";
import { PgNotifyChannel } from "../../src/store/postgres/notify";
import { waitFor } from "../e2e/harness";
import { describePg, freshSchemas, pgUrl } from "../support/postgres";

const T0 = new Date("2026-01-01T00:00:00Z");

describePg("Postgres event appends and their notice", () => {
  const schemas = freshSchemas();
  let store: PostgresStore;
  let listener: PgNotifyChannel;
  const heard: string[] = [];
  let channel: string;

  beforeAll(async () => {
    const schema = schemas.next();
    channel = channelFor(EVENTS_CHANNEL, schema);
    store = new PostgresStore({ url: pgUrl(), schema, max: 2 });
    await store.migrate();
    listener = new PgNotifyChannel({ url: pgUrl(), channel, applicationName: "leoflow-test" });
    await listener.listen(
      (p) => heard.push(p),
      () => {},
    );
  });
  afterAll(async () => {
    await listener.close();
    await store.close();
  });

  test("an append with a notice announces its newest id once, one without it announces nothing", async () => {
    const quiet = await store.appendEvents([{ type: "a", team: "default" }], T0);
    // Events of two teams: the many-rows form of the statement, one notice for the whole append.
    const told = await store.appendEvents(
      [
        { type: "b", team: "default" },
        { type: "c", team: "other" },
        { type: "d", team: "default" },
      ],
      T0,
      { channel, origin: "r1" },
    );
    const single = await store.appendEvents([{ type: "e", team: "default" }], T0, { channel, origin: "r2" });
    expect(told).toEqual([quiet[0]! + 1, quiet[0]! + 2, quiet[0]! + 3]);
    await waitFor(
      () => heard.length >= 2,
      5_000,
      () => `heard ${JSON.stringify(heard)}`,
    );
    // In commit order: had the first append announced itself, its notice would have come first.
    expect(heard).toEqual([`r1:${told[2]}`, `r2:${single[0]}`]);
  });
});

describe("an event append whose notice Postgres refuses (a double of the pool)", () => {
  /** A pool double: answers each append with `first_id` 41, or fails those carrying a notice with `code`. */
  const poolFailingNotices = (code: string) => {
    const calls: unknown[][] = [];
    const pool = {
      unsafe(_text: string, params: unknown[]) {
        calls.push(params);
        const PostgresError = postgresDriver().PostgresError;
        if (params.at(-2) !== null) return Promise.reject(new PostgresError({ code, message: `refused (${code})` } as never));
        return Promise.resolve([{ first_id: 41 }]);
      },
    };
    return { pool: pool as unknown as Pool, calls };
  };
  const events = [
    { type: "a", team: "default" },
    { type: "b", team: "default" },
  ];
  const notice = { channel: "leoflow_events", origin: "r1" };

  test("a full NOTIFY queue (54000) costs the notice, not the events: appended again without it", async () => {
    const { pool, calls } = poolFailingNotices("54000");
    expect(await appendEvents(pool, events, T0, notice)).toEqual([41, 42]);
    expect(calls.map((c) => c.slice(-2))).toEqual([
      ["leoflow_events", "r1"],
      [null, null],
    ]);
  });

  test("any other refusal is the append's own: thrown, not tried again", async () => {
    const { pool, calls } = poolFailingNotices("40001");
    await expect(appendEvents(pool, events, T0, notice)).rejects.toThrow("refused (40001)");
    expect(calls).toHaveLength(1);
  });
});
