/**
 * Pro: a frozen leader is deposed (--leader-takeover-after). A leader stopped with SIGSTOP keeps its Postgres session
 * (the kernel keeps its TCP connection alive) and so its advisory lock; the follower sees its heartbeat and its lock
 * session stand still, ends that session and leads, and runs what is triggered. Thawed with SIGCONT, the old leader
 * finds it no longer leads before it writes anything, and serves on as a follower; nothing runs twice. Two real
 * replicas (the compiled binary) on one Postgres schema behind the test's load balancer.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describePg } from "../support/postgres";
import { ProCluster } from "../support/pro-cluster";
import { metricValue, waitFor, waitForRun, type Leoflow } from "./harness";

const TAKEOVER_AFTER = 10;

describePg("Pro: a frozen (SIGSTOPped) leader is deposed", () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-pro-frozen-"));
  const marker = join(dir, "executed.txt");
  const cluster = new ProCluster({ dir, names: ["r1", "r2"], args: ["--leader-poll=1", `--leader-takeover-after=${TAKEOVER_AFTER}`] });

  beforeAll(async () => {
    const dags = join(dir, "dags");
    mkdirSync(dags);
    const step = `echo "$LEOFLOW_RUN_ID $LEOFLOW_TASK_ID $LEOFLOW_TRY_NUMBER" >> ${marker}`;
    writeFileSync(
      join(dags, "frozen.json"),
      JSON.stringify({
        dag_id: "frozen",
        schedule: null,
        tasks: [
          { task_id: "a", operator: "bash", bash_command: step },
          { task_id: "b", operator: "bash", bash_command: step, upstream: ["a"] },
        ],
      }),
    );
    await cluster.start(dags);
  }, 60_000);

  afterAll(async () => {
    // A replica left stopped would never answer the SIGTERM of stop().
    for (const r of cluster.replicas) if (r.proc.exitCode === null) r.proc.kill("SIGCONT");
    await cluster.stop();
  });

  const lines = () => (existsSync(marker) ? readFileSync(marker, "utf8").trim().split("\n").filter(Boolean) : []);

  test("the follower deposes it and runs a triggered DAG; thawed, it is a follower and nothing ran twice", async () => {
    const [r1, r2] = cluster.replicas as [Leoflow, Leoflow];
    // A first run on the healthy cluster: the leader has ticked and written its heartbeat.
    expect((await r2.api("POST", "/api/v2/dags/frozen/dagRuns", { dag_run_id: "before", logical_date: null })).status).toBe(200);
    expect((await waitForRun(r2, "frozen", "before", 30_000)).state).toBe("success");

    cluster.alive.delete(r1.url); // the load balancer would hang on a stopped replica
    r1.proc.kill("SIGSTOP");
    const frozenAt = performance.now();
    await waitFor(
      () => r2.output().includes("became scheduler leader"),
      TAKEOVER_AFTER * 1000 + 20_000,
      () => `r2 never took over:\n${r2.output().slice(-3000)}`,
    );
    console.log(`takeover: ${Math.round(performance.now() - frozenAt)} ms after SIGSTOP of the leader (bound ${TAKEOVER_AFTER} s)`);
    const deposed = r2
      .output()
      .split("\n")
      .find((l) => l.includes("deposed a frozen scheduler leader"));
    expect(deposed).toBeDefined();
    // Who and why: the leader as its heartbeat names it (host, pid, URL), and the bound.
    expect(deposed).toContain(`pid ${r1.proc.pid} `);
    expect(deposed).toContain(`--leader-takeover-after ${TAKEOVER_AFTER} s`);

    expect((await r2.api("POST", "/api/v2/dags/frozen/dagRuns", { dag_run_id: "during", logical_date: null })).status).toBe(200);
    expect((await waitForRun(r2, "frozen", "during", 30_000)).state).toBe("success");

    // Thawed: it learns it lost the lock and steps down, without crashing.
    r1.proc.kill("SIGCONT");
    await waitFor(
      () => r1.output().includes("stepping down"),
      15_000,
      () => `r1 never stepped down:\n${r1.output().slice(-3000)}`,
    );
    cluster.alive.add(r1.url);
    expect(r1.proc.exitCode).toBeNull();
    expect(await metricValue(r1, "leoflow_scheduler_leader")).toBe(0);
    expect(await metricValue(r2, "leoflow_scheduler_leader")).toBe(1);
    const health = await fetch(`${r1.url}/api/v2/monitor/health`).then((x) => x.json());
    expect(health.metadatabase.status).toBe("healthy");

    // A run triggered through the old leader is run once, by the new one.
    expect((await r1.api("POST", "/api/v2/dags/frozen/dagRuns", { dag_run_id: "after", logical_date: null })).status).toBe(200);
    expect((await waitForRun(r1, "frozen", "after", 30_000)).state).toBe("success");
    await Bun.sleep(2_000); // a second try of anything would show in the marker now
    expect(lines().sort()).toEqual(["after a 1", "after b 1", "before a 1", "before b 1", "during a 1", "during b 1"]);
    expect(r1.output()).not.toContain("became scheduler leader again");
  }, 120_000);
});
