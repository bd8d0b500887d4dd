/**
 * A team's executor policy at dispatch, through the real scheduler loop, dispatcher and retry policy on a
 * real store: team data-eng may use only python:3.* and ghcr.io/acme/* images, so its task asking for
 * evil/miner:latest fails on its first launch with the violation as its note and in its log, without the
 * docker executor (a recording double) ever being asked to launch it; its allowed task and the default
 * team's same DAG (no policy) launch as usual.
 */
import { describe, expect, test } from "bun:test";
import { DEFAULT_TEAM, type TeamInput } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { AgentTokens, signingKeys } from "../../src/auth";
import { Router, type Executor, type ExecutorRequest } from "../../src/executors";
import { Dispatcher, DispatchRetryPolicy, TeamPolicies } from "../../src/dispatch";
import { SchedulerLoop, buildDagRun } from "../../src/scheduler";
import { Metrics, silentLogger } from "../../src/observability";
import { forEachStore } from "../support/stores";

const T0 = new Date("2026-01-01T00:00:00Z");

/** Records every launch it is asked for and runs nothing. */
class RecordingExecutorDouble implements Executor {
  readonly launched: ExecutorRequest[] = [];
  constructor(readonly name: string) {}
  async execute(req: ExecutorRequest): Promise<void> {
    this.launched.push(req);
  }
}

const DATA_ENG: TeamInput = {
  name: "data-eng",
  description: "data engineering",
  max_running_tasks: null,
  max_pool_slots: null,
  max_inline_requests: null,
  executor_policy: { images: ["python:3.*", "ghcr.io/acme/*"] },
};

const SPEC = parseDagSpec({
  dag_id: "etl",
  default_args: { executor: "docker" },
  tasks: [
    { task_id: "mine", operator: "container", image: "evil/miner:latest", command: ["mine"], retries: 3 },
    { task_id: "load", operator: "container", image: "ghcr.io/acme/load:2", command: ["load"] },
  ],
});

forEachStore((backend) => {
  describe("a team's executor policy at dispatch", () => {
    test("a forbidden image fails its try with the violation, nothing launched; allowed tasks and other teams launch", async () => {
      const store = await backend.open();
      await store.migrate();
      await store.createTeam(DATA_ENG, T0);
      const now = T0;
      const docker = new RecordingExecutorDouble("docker");
      const failures = new Metrics().counter("leoflow_dispatch_failures_total", "x", ["outcome"]);
      let loop: SchedulerLoop | undefined;
      const retries = new DispatchRetryPolicy({
        store,
        logger: silentLogger,
        maxAttempts: 3,
        baseMs: 5000,
        wake: (id) => loop?.wake(id),
        failures,
      });
      const dispatcher = new Dispatcher({
        store,
        router: new Router(new RecordingExecutorDouble("subprocess"), [docker]),
        tokens: new AgentTokens(signingKeys("a-test-secret-of-at-least-32-bytes!!")),
        controlPlaneUrl: "http://127.0.0.1:1",
        tokenTtl: { ceilingSeconds: 3600, queueWaitSeconds: 60, graceSeconds: 60 },
        policies: new TeamPolicies({ source: store, ttlMs: 5000, logger: silentLogger }),
      });
      loop = new SchedulerLoop({
        store,
        dispatcher,
        logger: silentLogger,
        sweepIntervalMs: 60_000,
        parallelism: 8,
        now: () => now,
        onDispatchFailure: retries.onDispatchFailure,
        dispatchGate: retries,
      });
      const runs = [];
      for (const team of ["data-eng", DEFAULT_TEAM]) {
        const dag = await store.upsertDag(team, { spec: SPEC, fileloc: `/dags/${team}/etl.json`, pausedOnCreate: false, now: T0 });
        runs.push(await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, T0)));
      }
      for (let i = 0; i < 10; i++) {
        loop.wake();
        const r = await loop.tick();
        if (!r.transitions && !r.dispatched) break;
      }

      const note = "executor_policy: team data-eng may not use image evil/miner:latest (task mine); allowed: python:3.*, ghcr.io/acme/*";
      const mine = await store.getTaskInstance("data-eng", "etl", runs[0]!.run_id, "mine");
      // Failed on its first try, task retries unspent: no retry can change what the team may run.
      expect([mine?.state, mine?.try_number, mine?.note]).toEqual(["failed", 1, note]);
      expect((await store.readLogs(mine!.id, 1)).map((l) => l.line)).toEqual([
        "leoflow: not launched: the executor policy of team data-eng forbids it: team data-eng may not use image evil/miner:latest (task mine); allowed: python:3.*, ghcr.io/acme/*",
      ]);
      expect(failures.get({ outcome: "policy_violation" })).toBe(1);
      expect(failures.get({ outcome: "retry" })).toBe(0);
      // The docker double never saw data-eng's forbidden task; the default team (no policy) runs the same DAG.
      expect(docker.launched.map((r) => `${r.team}/${r.taskId}`).sort()).toEqual(["data-eng/load", "default/load", "default/mine"]);
      const defaultMine = await store.getTaskInstance(DEFAULT_TEAM, "etl", runs[1]!.run_id, "mine");
      expect(defaultMine?.state).toBe("queued");
      await store.close();
    });
  });
});
