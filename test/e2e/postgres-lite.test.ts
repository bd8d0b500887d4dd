/**
 * Lite on Postgres: the compiled binary with `--db=postgres://…`, in a fresh schema, runs a real DAG end to
 * end (scheduler → subprocess agent → RPC → Postgres) and everything is checked over HTTP; restarting on
 * the same database keeps the history and migrates nothing twice.
 */
import { afterAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import { describePg, freshSchemas, pgUrlWithSchema } from "../support/postgres";
import { metricValue, startLeoflow, waitForRun, type Leoflow } from "./harness";

const FIXTURES = resolve(import.meta.dir, "../fixtures/e2e");

describePg("leoflow serve --mode=lite --db=postgres://… (compiled binary)", () => {
  let lf: Leoflow | undefined;
  // Registered before freshSchemas' drop: afterAll hooks run in the order they were registered, and dropping
  // the schema under a live server can deadlock with its queries.
  afterAll(async () => {
    await lf?.stop();
  });
  const schema = freshSchemas().next();
  const db = pgUrlWithSchema(schema);

  test("a triggered run succeeds with its XCom and logs, and survives a restart on the same database", async () => {
    lf = await startLeoflow({ dagsFrom: FIXTURES, args: [`--db=${db}`] });
    const health = await fetch(`${lf.url}/api/v2/monitor/health`).then((r) => r.json());
    expect(health.metadatabase.status).toBe("healthy");

    const trigger = await lf.api("POST", "/api/v2/dags/e2e_chain/dagRuns", { dag_run_id: "pg-1", logical_date: null });
    expect(trigger.status).toBe(200);
    expect((await waitForRun(lf, "e2e_chain", "pg-1")).state).toBe("success");
    const tis = await lf.api("GET", "/api/v2/dags/e2e_chain/dagRuns/pg-1/taskInstances");
    expect(tis.body.total_entries).toBeGreaterThan(0);
    expect(tis.body.task_instances.every((t: { state: string }) => t.state === "success")).toBe(true);
    // Its next tasks were queued by their upstreams' reports (scheduler/dispatch-step.ts chainHandOff).
    expect(await metricValue(lf, "leoflow_scheduler_chain_handoffs_total")).toBeGreaterThanOrEqual(7);
    const first = tis.body.task_instances[0];
    const log = await lf.api("GET", `/api/v2/dags/e2e_chain/dagRuns/pg-1/taskInstances/${first.task_id}/logs/1`);
    expect(log.status).toBe(200);
    expect(log.body.content.length).toBeGreaterThan(0);

    const dir = lf.dir;
    expect(await lf.stop()).toBe(0);
    lf = await startLeoflow({ dir, args: [`--db=${db}`] });
    const again = await lf.api("GET", "/api/v2/dags/e2e_chain/dagRuns/pg-1");
    expect(again.status).toBe(200);
    expect(again.body.state).toBe("success");
  }, 120_000);
});
