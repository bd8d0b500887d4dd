/**
 * Teams' executor policies at dispatch: the policy cache (one read per TTL, shared, stale on a failed read)
 * and the Dispatcher refusing a try its team forbids — nothing launched, no token minted — or launching it
 * in the team's Kubernetes namespace. Doubles only: no store, no executor process.
 */
import { describe, expect, test } from "bun:test";
import type { DagRunRecord, ExecutorPolicy, TaskInstanceRecord } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { AgentTokens, signingKeys } from "../../../src/auth";
import { Router, type Executor, type ExecutorRequest } from "../../../src/executors";
import { Dispatcher, ExecutorPolicyViolation, TeamPolicies, type TeamPolicy } from "../../../src/dispatch";
import { silentLogger } from "../../../src/observability";

/** A listTeams double that counts reads and can be told to fail. */
class TeamsSourceDouble {
  reads = 0;
  failing: Error | null = null;
  constructor(public teams: TeamPolicy[]) {}
  async listTeams(): Promise<TeamPolicy[]> {
    this.reads++;
    if (this.failing) throw this.failing;
    return this.teams;
  }
}

/** An executor double that records what it was asked to launch. */
class RecordingExecutorDouble implements Executor {
  readonly launched: ExecutorRequest[] = [];
  constructor(
    readonly name: string,
    readonly taskDefaults?: Executor["taskDefaults"],
  ) {}
  async execute(req: ExecutorRequest): Promise<void> {
    this.launched.push(req);
  }
}

function policies(source: TeamsSourceDouble, clock: { ms: number }, ttlMs = 5000) {
  return new TeamPolicies({ source, ttlMs, logger: silentLogger, clock: () => clock.ms });
}

describe("TeamPolicies", () => {
  const teams = [
    { name: "default", executor_policy: {} },
    { name: "data-eng", executor_policy: { images: ["python:3.*"] } },
  ];

  test("one read serves every dispatch until the TTL is over, then one more", async () => {
    const source = new TeamsSourceDouble(teams);
    const clock = { ms: 0 };
    const p = policies(source, clock);
    await Promise.all([p.teamOf("data-eng"), p.teamOf("default"), p.teamOf("data-eng")]);
    clock.ms = 4999;
    expect((await p.teamOf("data-eng")).executor_policy).toEqual({ images: ["python:3.*"] });
    expect(source.reads).toBe(1);
    source.teams = [{ name: "data-eng", executor_policy: { images: ["ghcr.io/acme/*"] } }];
    clock.ms = 5000;
    expect((await p.teamOf("data-eng")).executor_policy).toEqual({ images: ["ghcr.io/acme/*"] });
    expect(source.reads).toBe(2);
  });

  test("a failed refresh keeps the last policies; with none read yet the dispatch fails with why", async () => {
    const source = new TeamsSourceDouble(teams);
    const clock = { ms: 0 };
    source.failing = new Error("connection refused");
    const p = policies(source, clock);
    await expect(p.teamOf("data-eng")).rejects.toThrow(
      "reading the teams' executor policies failed, so no try is launched yet: connection refused",
    );
    source.failing = null;
    await p.teamOf("data-eng");
    source.failing = new Error("connection refused");
    clock.ms = 10_000;
    expect((await p.teamOf("data-eng")).executor_policy).toEqual({ images: ["python:3.*"] });
    // The failed read counts as a read: the next one waits for the TTL, not for the next dispatch.
    const reads = source.reads;
    await p.teamOf("data-eng");
    expect(source.reads).toBe(reads);
  });

  test("a team created since the last read is found by reading again; a team that does not exist is named", async () => {
    const source = new TeamsSourceDouble(teams);
    const clock = { ms: 0 };
    const p = policies(source, clock, 60_000);
    await p.teamOf("default");
    source.teams = [...teams, { name: "ml", executor_policy: { executors: ["kubernetes"] } }];
    clock.ms = 2000;
    expect((await p.teamOf("ml")).executor_policy).toEqual({ executors: ["kubernetes"] });
    // Right after a read, an unknown team does not cause another: a stray try cannot hammer the store.
    const reads = source.reads;
    await expect(p.teamOf("ghost")).rejects.toThrow(
      "team ghost of this task instance is not in the teams table, so its executor policy is unknown and the try is not launched",
    );
    expect(source.reads).toBe(reads);
  });
});

describe("Dispatcher with teams' executor policies", () => {
  const spec = parseDagSpec({
    dag_id: "etl",
    tasks: [
      { task_id: "mine", operator: "container", image: "evil/miner:latest", command: ["mine"] },
      { task_id: "train", operator: "container", image: "python:3.12", command: ["train"], resources: { cpu: "8" } },
      { task_id: "plain", operator: "bash", bash_command: "true" },
    ],
  });
  const run = { id: 1, version_id: 1 } as DagRunRecord;
  const ti = (task_id: string, team = "data-eng") =>
    ({ id: 7, team, dag_id: "etl", run_id: "manual__1", task_id, try_number: 1, dag_run_id: 1 }) as TaskInstanceRecord;

  function setup(policy: ExecutorPolicy, standard = new RecordingExecutorDouble("docker", { image: "python:3.12", cpu: 1 })) {
    const source = new TeamsSourceDouble([
      { name: "default", executor_policy: {} },
      { name: "data-eng", executor_policy: policy },
    ]);
    const issued: number[] = [];
    const tokens = new AgentTokens(signingKeys("a-test-secret-of-at-least-32-bytes!!"));
    const issue = tokens.issue.bind(tokens);
    tokens.issue = (id, ttl, now) => (issued.push(id.tiId), issue(id, ttl, now));
    const dispatcher = new Dispatcher({
      store: { getDag: async () => null },
      router: new Router(standard),
      tokens,
      controlPlaneUrl: "http://127.0.0.1:1",
      tokenTtl: { ceilingSeconds: 3600, queueWaitSeconds: 60, graceSeconds: 60 },
      policies: policies(source, { ms: 0 }),
    });
    return { dispatcher, executor: standard, issued };
  }

  test("a forbidden image is refused before anything is launched or any token minted", async () => {
    const { dispatcher, executor, issued } = setup({ images: ["python:3.*", "ghcr.io/acme/*"] });
    const err = await dispatcher.dispatch(ti("mine"), run, spec).catch((e) => e);
    expect(err).toBeInstanceOf(ExecutorPolicyViolation);
    expect(err.note).toBe(
      "executor_policy: team data-eng may not use image evil/miner:latest (task mine); allowed: python:3.*, ghcr.io/acme/*",
    );
    expect(executor.launched).toEqual([]);
    expect(issued).toEqual([]);
  });

  test("resources above the team's maximum are refused; the executor's defaults are checked too", async () => {
    const { dispatcher, executor } = setup({ max_cpu: "2" }, new RecordingExecutorDouble("kubernetes", { cpu: "4" }));
    await expect(dispatcher.dispatch(ti("train"), run, spec)).rejects.toThrow(
      "the executor policy of team data-eng forbids this try: task train requests cpu 8 but team data-eng allows at most 2",
    );
    await expect(dispatcher.dispatch(ti("plain"), run, spec)).rejects.toThrow(
      "task plain sets no cpu, so it gets the executor's default of 4, but team data-eng allows at most 2",
    );
    expect(executor.launched).toEqual([]);
  });

  test("an allowed try launches, in the team's Kubernetes namespace when its policy names one", async () => {
    const { dispatcher, executor, issued } = setup(
      { images: ["python:3.*"], kubernetes_namespace: "team-data-eng" },
      new RecordingExecutorDouble("kubernetes", { image: "python:3.12" }),
    );
    await dispatcher.dispatch(ti("train"), run, spec);
    await dispatcher.dispatch(ti("train", "default"), run, spec);
    expect(executor.launched.map((r) => [r.team, r.taskId, r.namespace])).toEqual([
      ["data-eng", "train", "team-data-eng"],
      ["default", "train", undefined],
    ]);
    expect(issued).toEqual([7, 7]);
  });

  test("another team's policy does not apply", async () => {
    const { dispatcher, executor } = setup({ images: [] });
    await dispatcher.dispatch(ti("mine", "default"), run, spec);
    expect(executor.launched.map((r) => r.taskId)).toEqual(["mine"]);
  });
});
