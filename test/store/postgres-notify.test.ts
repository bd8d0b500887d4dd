/**
 * Postgres only: a NOTIFY channel (the wake bus's and the event notifier's) delivers every payload of one
 * notify() to a listener, in order and byte for byte, quotes, backslashes, commas and non-ASCII text included.
 */
import { expect, test } from "bun:test";
import { PgNotifyChannel } from "../../src/store/postgres";
import { describePg, pgUrl } from "../support/postgres";
import { waitFor } from "../support/leoflow-process";

describePg("PgNotifyChannel", () => {
  test("one notify() delivers each payload, in order and unchanged", async () => {
    const channel = `leoflow_test_${process.pid}_${Date.now()}`;
    const listener = new PgNotifyChannel({ url: pgUrl(), channel, applicationName: "leoflow-test-listen" });
    const sender = new PgNotifyChannel({ url: pgUrl(), channel, applicationName: "leoflow-test-notify" });
    try {
      const got: string[] = [];
      await listener.listen(
        (payload) => got.push(payload),
        () => {},
      );
      const payloads = ["abc:42", 'a "quoted", comma', "back\\slash {braces}", "naïve – ünïcode ✓", ""];
      await sender.notify(payloads);
      await waitFor(
        () => got.length >= payloads.length,
        5_000,
        () => `got ${JSON.stringify(got)}`,
      );
      expect(got).toEqual(payloads);
    } finally {
      await Promise.all([listener.close(), sender.close()]);
    }
  });
});
