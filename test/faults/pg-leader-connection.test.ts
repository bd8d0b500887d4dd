/**
 * Fault (Pro): kill the leader's Postgres connection. Three replicas share one schema; while several runs
 * have tasks in flight, the session holding the leader's advisory lock is found in pg_locks and terminated
 * server-side (pg_terminate_backend), as a network partition or an idle reaper would. The old leader steps
 * down with a WARN saying why, a replica (possibly the same one, on a fresh session) leads again, every run
 * succeeds, each (task instance, try) executed exactly once, and no run or task instance is left unfinished.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { describePg, pgUrl } from "../support/postgres";
import { ProCluster } from "../support/pro-cluster";
import { waitFor, waitForRun, type Leoflow } from "../e2e/harness";
import { duplicated, lost, markedTask, markers, report, taskInstances, writeDag } from "./helpers";
import { leaderLockIdFor } from "../../src/scheduler/pg-leader-lock";

const DAG = "pg_leader_conn";
const RUNS = Array.from({ length: 6 }, (_, i) => `conn-${i}`);
const TASKS = ["a", "b1", "b2", "b3", "z"];
const STEP_DOWN = /^(\S+) WARN\s+\S*leader: stepping down: .* reason=(lock_lost|check_failed)$/m;

describePg("Fault: the leader's Postgres connection is killed (Pro)", () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-fault-pg-leader-"));
  const cluster = new ProCluster({
    dir,
    names: ["r1", "r2", "r3"],
    args: ["--dispatch-lost-after=10"],
    env: { MARKERS: join(dir, "markers"), LEOFLOW_TASK_ENV_PASSTHROUGH: "MARKERS" },
  });
  const admin = postgres(pgUrl(), { max: 1, onnotice: () => {} });

  beforeAll(async () => {
    // Each try appends "start <run> <task> <try>", works for ~1 s (so tasks are in flight at the kill), then
    // appends "end …"; one retry each.
    const step = (task: string, upstream: string[] = []) => markedTask(task, { upstream, pause: 1, retries: 1 });
    writeDag(dir, {
      dag_id: DAG,
      schedule: null,
      tasks: [step("a"), ...["b1", "b2", "b3"].map((t) => step(t, ["a"])), step("z", ["b1", "b2", "b3"])],
    });
    await cluster.start(join(dir, "dags"));
  }, 60_000);

  afterAll(async () => {
    await cluster.stop();
    await admin.end({ timeout: 1 });
  });

  const leaderFlag = async (r: Leoflow) =>
    (await fetch(`${r.url}/metrics`).then((x) => x.text())).match(/^leoflow_scheduler_leader (\d)$/m)?.[1] ?? "?";
  const leadLines = (r: Leoflow) =>
    r
      .output()
      .split("\n")
      .filter((l) => l.includes("became scheduler leader"));

  test("pg_terminate_backend on the leader's lock session: it steps down, a replica re-leads, every run succeeds, nothing runs twice", async () => {
    const { replicas } = cluster;
    const flags = await Promise.all(replicas.map(leaderFlag));
    expect(flags).toEqual(["1", "0", "0"]);
    const leader = replicas[0]!;

    for (const id of RUNS)
      expect((await replicas[1]!.api("POST", `/api/v2/dags/${DAG}/dagRuns`, { dag_run_id: id, logical_date: null })).status).toBe(200);
    // Strike once every run's first task has started and the fan-out is under way.
    const started = () => markers(dir).filter((l) => l.startsWith("start ")).length;
    await waitFor(
      () => started() >= RUNS.length + 3,
      30_000,
      () => `tasks did not start:\n${leader.output().slice(-3000)}`,
    );
    const startedBefore = started();

    // The session holding this deployment's advisory lock (a bigint key shows as classid = high, objid = low 32 bits).
    const lockId = leaderLockIdFor(cluster.schema);
    const sessions = await admin<{ pid: number; application_name: string }[]>`
      select l.pid, a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.objsubid = 1
        and l.database = (select oid from pg_database where datname = current_database())
        and l.classid = ${Number(lockId >> 32n)}::oid and l.objid = ${Number(lockId & 0xffffffffn)}::oid`;
    expect(sessions.map((s) => s.application_name.replace(/ pid \d+ on .*$/, ""))).toEqual(["leoflow-leader"]);
    const leadsBefore = replicas.map((r) => leadLines(r).length);
    const killedAt = Date.now();
    const [terminated] = await admin<{ ok: boolean }[]>`select pg_terminate_backend(${sessions[0]!.pid}) as ok`;
    expect(terminated!.ok).toBe(true);

    // The old leader notices (its next lock check or pre-tick guard) and says why; a replica takes the lock
    // (maybe the old one, on a fresh session: "became scheduler leader again"). Times come from the log lines.
    const stepDown = await waitFor(
      () => leader.output().match(STEP_DOWN),
      15_000,
      () => `the old leader never stepped down:\n${leader.output().slice(-3000)}`,
    );
    const successor = await waitFor(
      () => replicas.find((r, i) => leadLines(r).length > leadsBefore[i]!),
      15_000,
      () => replicas.map((r, i) => `--- r${i + 1} ---\n${r.output().slice(-1500)}`).join("\n"),
    );
    const stepDownMs = Date.parse(stepDown[1]!) - killedAt;
    const recoverMs = Date.parse(leadLines(successor)[leadsBefore[replicas.indexOf(successor)]!]!.split(" ")[0]!) - killedAt;
    const reason = stepDown[2];
    // Exactly one replica leads, and it ticks.
    await waitFor(
      async () => (await Promise.all(replicas.map(leaderFlag))).filter((f) => f === "1").length === 1,
      10_000,
      () => "not exactly one leader",
    );
    expect(await leaderFlag(successor)).toBe("1");
    expect((await fetch(`${successor.url}/api/v2/monitor/health`).then((x) => x.json())).scheduler.status).toBe("healthy");

    for (const id of RUNS) expect((await waitForRun(replicas[1]!, DAG, id, 40_000)).state).toBe("success");
    const runsDone = Date.now() - killedAt;

    // Each (task instance, try) executed once; every task instance finished a try; the store agrees.
    const m = markers(dir);
    const expected = taskInstances(RUNS, TASKS);
    const [dups, missing] = [duplicated(m), lost(expected, m)];
    report({
      fault: "kill the leader's Postgres connection (Pro)",
      runs: RUNS.length,
      tasks: expected.length,
      lost: missing.length,
      duplicated: dups.length,
      recoverMs,
    });
    expect(dups).toEqual([]);
    expect(missing).toEqual([]);
    const tis = await admin.unsafe<{ run_id: string; task_id: string; state: string; try_number: number }[]>(
      `select run_id, task_id, state, try_number from "${cluster.schema}".task_instances where dag_id = $1`,
      [DAG],
    );
    expect(tis.length).toBe(expected.length);
    for (const t of tis) {
      expect([t.run_id, t.task_id, t.state]).toEqual([t.run_id, t.task_id, "success"]);
      expect(m.filter((l) => l === `start ${t.run_id} ${t.task_id} ${t.try_number}`).length).toBe(1);
      expect(m.filter((l) => l === `end ${t.run_id} ${t.task_id} ${t.try_number}`).length).toBe(1);
    }
    const retried = tis.filter((t) => t.try_number > 1).map((t) => `${t.run_id}/${t.task_id}`);
    const unfinished = await admin.unsafe<{ kind: string; id: string; state: string }[]>(
      `select 'run' as kind, run_id as id, state from "${cluster.schema}".dag_runs where state not in ('success', 'failed')
       union all select 'ti', run_id || '/' || task_id, state from "${cluster.schema}".task_instances where state not in ('success', 'failed', 'skipped', 'upstream_failed', 'removed')`,
    );
    expect([...unfinished]).toEqual([]);

    const successorName = `r${replicas.indexOf(successor) + 1}`;
    console.log(
      `pg leader connection killed with ${startedBefore}/${expected.length} tries started: old leader stepped down (${reason}) after ${stepDownMs} ms, ` +
        `${successorName} led again after ${recoverMs} ms, all runs done ${runsDone} ms after the kill; retried: ${retried.length ? retried.join(", ") : "none"}`,
    );
  }, 55_000);
});
