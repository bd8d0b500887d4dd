/**
 * Pro with three real replicas (`dist/leoflow serve --mode=pro`) on one Postgres schema, behind a small
 * load balancer (test/support/pro-cluster.ts) that agents report through (their --advertise-url), as in a real deployment.
 * Runs are triggered through a follower's API; the leader is SIGKILLed mid-run; another replica takes over;
 * every run completes and every (task instance, try) was executed exactly once (tasks append a marker line).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describePg } from "../support/postgres";
import { ProCluster } from "../support/pro-cluster";
import { waitFor, waitForRun, type Leoflow } from "../e2e/harness";

const RUNS = 6;
const FAN = ["b1", "b2", "b3"];
const JWT_SECRET = "pro-replicas-shared-secret-0123456789";

describePg("Pro: three replicas, leader killed mid-run", () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-pro-"));
  const marker = join(dir, "executed.txt");
  // A try the leader wrote running for an idle agent in the ~1 ms before the agent read it waits for agent_lost
  // (docs/performance.md, "Noticed"): 15 s (three heartbeats of 5 s) instead of 60 keeps that run short.
  const cluster = new ProCluster({
    dir,
    names: ["r1", "r2", "r3"],
    jwtSecret: JWT_SECRET,
    args: ["--dispatch-lost-after=10", "--agent-lost-after=15"],
  });
  const replicas: Leoflow[] = cluster.replicas;
  const alive = cluster.alive;

  beforeAll(async () => {
    const dags = join(dir, "dags");
    mkdirSync(dags);
    // Each try appends "<run> <task> <try>" once; the sleep keeps tasks in flight when the leader dies.
    const step = `echo "$LEOFLOW_RUN_ID $LEOFLOW_TASK_ID $LEOFLOW_TRY_NUMBER" >> ${marker} && sleep 0.4`;
    writeFileSync(
      join(dags, "pro_fan.json"),
      JSON.stringify({
        dag_id: "pro_fan",
        schedule: null,
        default_args: { retries: 1, retry_delay: 0 },
        tasks: [
          { task_id: "a", operator: "bash", bash_command: step },
          ...FAN.map((t) => ({ task_id: t, operator: "bash", bash_command: step, upstream: ["a"] })),
          { task_id: "z", operator: "bash", bash_command: step, upstream: FAN },
        ],
      }),
    );
    // The load balancer and the replicas, one at a time, so the first one leads (test/support/pro-cluster.ts).
    await cluster.start(dags);
  }, 60_000);

  afterAll(() => cluster.stop());

  test("exactly one replica leads; followers are healthy without ticking", async () => {
    const leaders = replicas.filter((r) => r.output().includes("became scheduler leader"));
    expect(leaders.map((r) => r.url)).toEqual([replicas[0]!.url]);
    for (const r of replicas) {
      const health = await fetch(`${r.url}/api/v2/monitor/health`).then((x) => x.json());
      expect(health.scheduler.status).toBe("healthy");
      const metrics = await fetch(`${r.url}/metrics`).then((x) => x.text());
      expect(metrics).toContain(`leoflow_scheduler_leader ${r === replicas[0] ? 1 : 0}`);
    }
  });

  test("SIGKILL of the leader mid-run: another replica takes over, every run completes, every try ran once", async () => {
    const [leader, follower, other] = replicas as [Leoflow, Leoflow, Leoflow];
    const runIds = Array.from({ length: RUNS }, (_, i) => `pro-${i}`);
    for (const id of runIds) {
      const res = await follower.api("POST", "/api/v2/dags/pro_fan/dagRuns", { dag_run_id: id, logical_date: null });
      expect(res.status).toBe(200);
    }
    // Kill once the fan-out is under way: tasks are queued and running on agents the leader spawned.
    const lines = () => (existsSync(marker) ? readFileSync(marker, "utf8").trim().split("\n").filter(Boolean) : []);
    await waitFor(
      () => lines().length >= RUNS + 3,
      30_000,
      () => `tasks did not start:\n${leader.output().slice(-3000)}`,
    );
    const before = lines().length;
    const killedAt = performance.now();
    leader.proc.kill("SIGKILL");
    await leader.proc.exited;
    alive.delete(leader.url);
    const successor = await waitFor(
      () => [follower, other].find((r) => r.output().includes("became scheduler leader")),
      30_000,
      () => `no replica took over:\n--- r2 ---\n${follower.output().slice(-2000)}\n--- r3 ---\n${other.output().slice(-2000)}`,
    );
    const takeoverMs = Math.round(performance.now() - killedAt);
    console.log(`takeover: ${takeoverMs} ms after SIGKILL of the leader (${before}/${RUNS * 5} tries had started)`);

    for (const id of runIds) {
      const run = await waitForRun(follower, "pro_fan", id, 90_000);
      expect(run.state).toBe("success");
    }
    // Every (run, task, try) exactly once, and every task instance of every run ran.
    const counts = new Map<string, number>();
    for (const l of lines()) counts.set(l, (counts.get(l) ?? 0) + 1);
    expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    const ran = new Set([...counts.keys()].map((k) => k.split(" ").slice(0, 2).join(" ")));
    expect(ran.size).toBe(RUNS * 5);
    // What the API reports agrees: each task instance succeeded, on the try the marker saw last.
    for (const id of runIds) {
      const tis = (await successor.api("GET", `/api/v2/dags/pro_fan/dagRuns/${id}/taskInstances`)).body.task_instances;
      for (const ti of tis) {
        expect(ti.state).toBe("success");
        expect(counts.get(`${id} ${ti.task_id} ${ti.try_number}`)).toBe(1);
      }
    }
    expect(successor.output()).not.toContain("became scheduler leader again");
  }, 180_000);
});
