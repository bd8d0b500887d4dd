/**
 * A Postgres event append tells the other replicas itself (EventAppendNotice): the NOTIFY goes out with the
 * append's commit, in its statement, carrying the newest id the append took. What another replica's feed
 * learns from it is in test/integration/pro-events.test.ts; here, what arrives on the channel.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { channelFor, EVENTS_CHANNEL } from "../../src/events";
import { PostgresStore } from "../../src/store/postgres";
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
