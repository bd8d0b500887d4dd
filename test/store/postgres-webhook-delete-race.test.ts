/**
 * Postgres only: a webhook deleted while a state change writes its outbox rows. The change's statement holds the
 * webhooks it writes rows for, so the delete waits for the change's commit and cascades to its rows; before, the
 * rows' foreign key check failed the whole statement (a batch of task ends with it).
 */
import { expect, test } from "bun:test";
import postgres from "postgres";
import type { WebhookInput } from "../../src/domain";
import { PostgresStore } from "../../src/store/postgres";
import { describePg, freshSchemas, pgUrl } from "../support/postgres";
import { runOfBashTasks, T0 } from "./contract-fixtures";

const hook: WebhookInput = {
  url: "http://127.0.0.1:9/hook",
  event_types: ["task_instance.state_changed"],
  secret: "0123456789abcdef",
};

describePg("PostgresStore webhook outbox and a concurrent delete", () => {
  const schemas = freshSchemas();

  test("a state change racing a webhook's delete applies, and the deleted webhook keeps no rows", async () => {
    const schema = schemas.next();
    const store = new PostgresStore({ url: pgUrl(), schema });
    const other = postgres(pgUrl(), { max: 1, onnotice: () => {}, connection: { search_path: schema } });
    try {
      await store.migrate();
      const { tis } = await runOfBashTasks(store, "race", ["a"]);
      const w = await store.createWebhook("default", hook, T0);
      // The delete is under way (not committed) when the state change writes its outbox row.
      const deleting = other.begin(async (tx) => {
        await tx`DELETE FROM webhooks WHERE id = ${w.id}`;
        await Bun.sleep(300);
      });
      await Bun.sleep(100);
      const applied = await store.applyTransitions([{ id: tis[0]!.id, from: ["none"], to: "scheduled" }], T0);
      await deleting;
      expect(applied).toEqual([true]);
      expect((await store.getTaskInstanceById(tis[0]!.id))!.state).toBe("scheduled");
      const [left] = await other`SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = ${w.id}`;
      expect(left!.n).toBe(0);
    } finally {
      await other.end();
      await store.close();
    }
  });
});
