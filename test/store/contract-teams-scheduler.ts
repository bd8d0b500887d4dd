/**
 * Store contract for the scheduler's system-wide reads with two teams (issue 21): run gates, active counts and
 * previous runs key a DAG by team and dag_id, so two teams' DAGs named alike never share a limit, a count or a
 * depends_on_past lookup.
 */
import { describe, expect, test } from "bun:test";
import type { DagRecord, NewDagRun, TaskState } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";
import { T0 } from "./contract-fixtures";

/** DAG "etl" of `team`, with tasks t0..t(n-1), each taking `slots` pool slots. */
async function etl(store: Store, team: string, o: { tasks?: number; slots?: number; paused?: boolean; maxActiveRuns?: number } = {}) {
  await store.ensureTeam(team, T0);
  const spec = parseDagSpec({
    dag_id: "etl",
    max_active_runs: o.maxActiveRuns ?? 16,
    tasks: Array.from({ length: o.tasks ?? 1 }, (_, i) => ({
      task_id: `t${i}`,
      operator: "bash",
      bash_command: "true",
      pool_slots: o.slots ?? 1,
    })),
  });
  return store.upsertDag(team, { spec, fileloc: `/dags/${team}/etl.json`, pausedOnCreate: o.paused ?? false, now: T0 });
}

function run(dag: DagRecord, runId: string): NewDagRun {
  return {
    team: dag.team,
    dag_id: dag.dag_id,
    run_id: runId,
    run_type: "manual",
    logical_date: null,
    data_interval_start: null,
    data_interval_end: null,
    conf: {},
    version_id: dag.version_id,
    queued_at: T0,
    tasks: dag.spec.tasks.map((t) => ({
      task_id: t.task_id,
      operator: t.operator,
      max_tries: 0,
      pool: t.pool,
      pool_slots: t.pool_slots,
      priority_weight: 1,
    })),
  };
}

/** Moves task instances from none along none → scheduled → queued → running, stopping at `to`. */
async function walkTo(store: Store, ids: number[], to: "queued" | "running", patch: { executor?: string } = {}) {
  const path: TaskState[] = ["none", "scheduled", "queued", "running"];
  for (let i = 1; i <= path.indexOf(to); i++) {
    const batch = ids.map((id) => ({ id, from: [path[i - 1] as TaskState], to: path[i] as TaskState, patch }));
    expect(await store.applyTransitions(batch, T0)).toEqual(batch.map(() => true));
  }
}

export function teamsSchedulerContract(getStore: () => Store): void {
  describe("teams: the scheduler's reads", () => {
    test("countActiveTaskInstances counts two teams' DAGs named alike apart, with each team's pool slots and inline requests", async () => {
      const store = getStore();
      const mine = await etl(store, "default", { tasks: 3 });
      const theirs = await etl(store, "ml", { tasks: 4, slots: 2 });
      const a = await store.createDagRun(run(mine, "r"));
      const b = await store.createDagRun(run(theirs, "r"));
      const [a0, a1] = (await store.loadRunSnapshots([a.id]))[0]?.tis.map((t) => t.id) ?? [];
      const [b0, b1, b2] = (await store.loadRunSnapshots([b.id]))[0]?.tis.map((t) => t.id) ?? [];
      await walkTo(store, [a0 as number], "queued");
      await walkTo(store, [a1 as number, b0 as number], "running");
      await walkTo(store, [b1 as number], "queued");
      // An inline http task goes scheduled → running with executor "inline" (executors/inline-rules.ts).
      expect(await store.applyTransitions([{ id: b2 as number, from: ["none"], to: "scheduled" }], T0)).toEqual([true]);
      const inline = { id: b2 as number, from: ["scheduled" as TaskState], to: "running" as TaskState, patch: { executor: "inline" } };
      expect(await store.applyTransitions([inline], T0)).toEqual([true]);

      expect(await store.countActiveTaskInstances()).toEqual({
        byDag: new Map([
          ["default/etl", 2],
          ["ml/etl", 3],
        ]),
        byTeam: new Map([
          ["default", { tasks: 2, pool_slots: 2, inline: 0 }],
          ["ml", { tasks: 3, pool_slots: 6, inline: 1 }],
        ]),
      });
    });

    test("loadRunGates keys DAGs by team: each team's DAG has its own pause, max_active_runs and running count", async () => {
      const store = getStore();
      const mine = await etl(store, "default", { maxActiveRuns: 5 });
      const theirs = await etl(store, "ml", { maxActiveRuns: 2, paused: true });
      const running = await store.createDagRun(run(mine, "r1"));
      await store.setDagRunState(running.id, ["queued"], "running", T0);
      const queued = await store.createDagRun(run(mine, "r2"));
      const other = await store.createDagRun(run(theirs, "r1"));

      const gates = await store.loadRunGates([running.id, queued.id, other.id]);
      expect(gates.runs).toEqual([
        { id: running.id, team: "default", dag_id: "etl", state: "running", backfill_id: null, run_after: null },
        { id: queued.id, team: "default", dag_id: "etl", state: "queued", backfill_id: null, run_after: null },
        { id: other.id, team: "ml", dag_id: "etl", state: "queued", backfill_id: null, run_after: null },
      ]);
      expect(gates.dags).toEqual(
        new Map([
          ["default/etl", { is_paused: false, max_active_runs: 5, running: 1 }],
          ["ml/etl", { is_paused: true, max_active_runs: 2, running: 0 }],
        ]),
      );
      // Gates for one team's runs say nothing of the other team's DAG of the same name.
      expect([...(await store.loadRunGates([other.id])).dags.keys()]).toEqual(["ml/etl"]);
    });

    test("listPreviousRunStates (depends_on_past) finds the previous run in the run's own team only", async () => {
      const store = getStore();
      const mine = await etl(store, "default");
      const theirs = await etl(store, "ml");
      const day = (n: number) => new Date(T0.getTime() + n * 86_400_000);
      const mineJan1 = await store.createDagRun({ ...run(mine, "jan1"), logical_date: day(1) });
      await store.createDagRun({ ...run(theirs, "jan2"), logical_date: day(2) }); // closer in time, but team ml's
      const mineJan3 = await store.createDagRun({ ...run(mine, "jan3"), logical_date: day(3) });
      const theirsJan4 = await store.createDagRun({ ...run(theirs, "jan4"), logical_date: day(4) });
      const previous = await store.listPreviousRunStates([mineJan3.id, theirsJan4.id, mineJan1.id]);
      expect(previous.map((p) => [p.dag_run_id, p.previous?.run_id ?? null])).toEqual([
        [mineJan3.id, "jan1"],
        [theirsJan4.id, "jan2"],
        [mineJan1.id, null],
      ]);
    });
  });
}
