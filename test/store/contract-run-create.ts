/**
 * Store contract for createDagRuns (the cron slot of many DAGs at once): each run is created as createDagRun
 * creates it, in its own team, with its own task instances; a run id already taken (before, or earlier in the
 * same call) answers null and changes nothing, while the other runs of the call are created.
 */
import { describe, expect, test } from "bun:test";
import type { DagRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";
import { T0, newRun } from "./contract-fixtures";

const day = (n: number) => new Date(T0.getTime() + n * 86_400_000);

async function addDag(store: Store, team: string, dagId: string, taskIds: string[]): Promise<DagRecord> {
  return store.upsertDag(team, {
    spec: parseDagSpec({ dag_id: dagId, tasks: taskIds.map((task_id) => ({ task_id, operator: "bash", bash_command: "true" })) }),
    fileloc: `/dags/${team}/${dagId}.json`,
    pausedOnCreate: false,
    now: T0,
  });
}

/** A scheduled run of `dag` for day `n`, with a task instance per task id of the DAG. */
function scheduledRun(dag: DagRecord, n: number) {
  return newRun(dag, `scheduled__day${n}`, {
    run_type: "scheduled",
    logical_date: day(n),
    data_interval_start: day(n),
    data_interval_end: day(n + 1),
    queued_at: day(n + 1),
    tasks: dag.spec.tasks.map((t, i) => ({
      task_id: t.task_id,
      operator: "bash",
      max_tries: i,
      pool: "default_pool",
      pool_slots: 1,
      priority_weight: 10 + i,
    })),
  });
}

export function runCreateContract(getStore: () => Store): void {
  describe("createDagRuns", () => {
    test("creates every run with its task instances, as createDagRun would, in input order", async () => {
      const store = getStore();
      await store.ensureTeam("team-b", T0);
      const wide = await addDag(store, "default", "wide", ["a", "b", "c"]);
      const other = await addDag(store, "team-b", "wide", ["x"]);
      const inputs = [scheduledRun(wide, 1), scheduledRun(other, 1), scheduledRun(wide, 2)];
      const created = await store.createDagRuns(inputs);
      expect(created.map((r) => r && [r.team, r.dag_id, r.run_id, r.state, r.run_type])).toEqual([
        ["default", "wide", "scheduled__day1", "queued", "scheduled"],
        ["team-b", "wide", "scheduled__day1", "queued", "scheduled"],
        ["default", "wide", "scheduled__day2", "queued", "scheduled"],
      ]);
      for (const [i, run] of created.entries()) {
        expect(run).toEqual((await store.getDagRunById(run!.id))!);
        expect(run!.logical_date).toEqual(inputs[i]!.logical_date);
        expect(run!.data_interval_end).toEqual(inputs[i]!.data_interval_end);
        expect(run!.queued_at).toEqual(inputs[i]!.queued_at);
      }
      const [snap] = await store.loadRunSnapshots([created[2]!.id]);
      expect(snap!.tis.map((t) => [t.team, t.run_id, t.task_id, t.state, t.try_number, t.max_tries, t.priority_weight])).toEqual([
        ["default", "scheduled__day2", "a", "none", 1, 0, 10],
        ["default", "scheduled__day2", "b", "none", 1, 1, 11],
        ["default", "scheduled__day2", "c", "none", 1, 2, 12],
      ]);
      const [otherSnap] = await store.loadRunSnapshots([created[1]!.id]);
      expect(otherSnap!.tis.map((t) => [t.team, t.task_id])).toEqual([["team-b", "x"]]);
    });

    test("a run id already taken, or repeated in the call, answers null and keeps the existing run; the others are created", async () => {
      const store = getStore();
      const dag = await addDag(store, "default", "etl", ["t"]);
      const existing = await store.createDagRun(scheduledRun(dag, 1));
      const created = await store.createDagRuns([scheduledRun(dag, 1), scheduledRun(dag, 2), scheduledRun(dag, 2)]);
      expect(created[0]).toBeNull();
      expect(created[1]!.run_id).toBe("scheduled__day2");
      expect(created[2]).toBeNull();
      const runs = (await store.listDagRuns("default", { dag_id: "etl", order_by: "id" })).items;
      expect(runs.map((r) => [r.id, r.run_id])).toEqual([
        [existing.id, "scheduled__day1"],
        [created[1]!.id, "scheduled__day2"],
      ]);
      const snaps = await store.loadRunSnapshots(runs.map((r) => r.id));
      expect(snaps.map((s) => s.tis.length)).toEqual([1, 1]);
    });

    test("keeps each run's run_after (a scheduled run's: when its slot was due), none where not given", async () => {
      const store = getStore();
      const dag = await addDag(store, "default", "etl", ["t"]);
      const due = { ...scheduledRun(dag, 1), run_after: day(2) };
      const created = await store.createDagRuns([due, scheduledRun(dag, 2)]);
      expect(created.map((r) => r!.run_after ?? null)).toEqual([day(2), null]);
      const stored = await store.getDagRunById(created[0]!.id);
      expect(stored!.run_after).toEqual(day(2));
      // What the run gate reads of a queued run.
      const gates = await store.loadRunGates(created.map((r) => r!.id));
      expect(gates.runs.map((r) => r.run_after)).toEqual([day(2), null]);
    });

    test("nothing to create: an empty answer", async () => {
      expect(await getStore().createDagRuns([])).toEqual([]);
    });
  });
}
