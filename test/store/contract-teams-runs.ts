/**
 * Store contract for teams (issue 21), run side: DAG runs, task instances, XCom, backfills and staging-volume
 * records. Two teams hold a DAG "etl" with a run "r1" each (same dag_id, same run_id); every list and get
 * answers only the caller's team's rows, and a write in one team (delete, clear, XCom, backfill) never
 * touches the other's.
 */
import { describe, expect, test } from "bun:test";
import { ConflictError, DEFAULT_TEAM, type DagRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { backfillSkips } from "../../src/scheduler";
import type { Store } from "../../src/store";
import { T0, newRun } from "./contract-fixtures";

const A = DEFAULT_TEAM;
const B = "team-b";
const day = (n: number) => new Date(T0.getTime() + n * 86_400_000);

/** DAG "etl" in both teams (daily, so it can be backfilled), each with its own task id. */
async function twoTeams(store: Store) {
  await store.ensureTeam(B, T0);
  const dag = (team: string, taskId: string) =>
    store.upsertDag(team, {
      spec: parseDagSpec({
        dag_id: "etl",
        schedule: "@daily",
        tasks: [{ task_id: taskId, operator: "bash", bash_command: "true" }],
      }),
      fileloc: `/dags/${team}/etl.json`,
      pausedOnCreate: false,
      now: T0,
    });
  return { a: await dag(A, "ta"), b: await dag(B, "tb") };
}

/** Run `runId` of `dag` in its team, with the DAG's one task. */
function runOf(store: Store, dag: DagRecord, runId: string, logicalDay?: number) {
  const task = { task_id: dag.spec.tasks[0]?.task_id ?? "t", operator: "bash", max_tries: 0, pool: "default_pool" };
  return store.createDagRun(
    newRun(dag, runId, {
      logical_date: logicalDay === undefined ? null : day(logicalDay),
      tasks: [{ ...task, pool_slots: 1, priority_weight: 1 }],
    }),
  );
}

const xkey = (team: string, key = "rows") => ({ team, dag_id: "etl", run_id: "r1", task_id: "t", key });

export function teamsRunsContract(getStore: () => Store): void {
  describe("teams: runs, task instances, XCom, backfills, staging volumes", () => {
    test("the same dag_id and run_id in two teams are two runs, each with task instances of its team", async () => {
      const store = getStore();
      const { a, b } = await twoTeams(store);
      const ra = await runOf(store, a, "r1");
      const rb = await runOf(store, b, "r1");
      expect([ra.team, rb.team]).toEqual([A, B]);
      expect(ra.id).not.toBe(rb.id);
      // Taken within a team only.
      await expect(runOf(store, b, "r1")).rejects.toBeInstanceOf(ConflictError);
      const tisA = (await store.listTaskInstances(A, "etl", "r1")).items;
      const tisB = (await store.listTaskInstances(B, "etl", "r1")).items;
      expect(tisA.map((t) => [t.team, t.task_id, t.dag_run_id])).toEqual([[A, "ta", ra.id]]);
      expect(tisB.map((t) => [t.team, t.task_id, t.dag_run_id])).toEqual([[B, "tb", rb.id]]);
      // By id (scheduler, RPC) the records say whose they are.
      expect((await store.getTaskInstanceById(tisB[0]?.id ?? -1))?.team).toBe(B);
      expect((await store.loadRunSnapshots([rb.id]))[0]?.tis.map((t) => t.team)).toEqual([B]);
    });

    test("listDagRuns, findTaskInstances and listTaskInstances return only the caller's team's rows", async () => {
      const store = getStore();
      const { a, b } = await twoTeams(store);
      await runOf(store, a, "r1");
      await runOf(store, b, "r1");
      await runOf(store, b, "only-b");
      const runs = async (team: string, f = {}) => (await store.listDagRuns(team, f)).items.map((r) => `${r.team}/${r.run_id}`);
      expect(await runs(A)).toEqual([`${A}/r1`]);
      expect(await runs(B)).toEqual([`${B}/r1`, `${B}/only-b`]);
      expect(await runs(A, { dag_id: "etl", run_id_pattern: "only%" })).toEqual([]);
      expect((await store.listDagRuns(A, { dag_ids: ["etl"] })).total).toBe(1);
      const tis = async (team: string, f = {}) => (await store.findTaskInstances(team, f)).items.map((t) => `${t.team}/${t.run_id}`);
      expect(await tis(A)).toEqual([`${A}/r1`]);
      expect(await tis(B, { run_id: "only-b" })).toEqual([`${B}/only-b`]);
      expect(await tis(A, { run_id: "only-b" })).toEqual([]);
      // One run named by DAG and run id (a run's page): the caller's team's run of that name, not another team's.
      expect(await tis(A, { dag_id: "etl", run_id: "r1" })).toEqual([`${A}/r1`]);
      expect(await tis(B, { dag_id: "etl", run_id: "r1" })).toEqual([`${B}/r1`]);
      expect(await tis(A, { dag_id: "etl", run_id: "only-b" })).toEqual([]);
      expect((await store.findTaskInstances(A, { dag_id: "etl" })).total).toBe(1);
      expect(await store.listTaskInstances(A, "etl", "only-b")).toEqual({ items: [], total: 0 });
    });

    test("deleteDagRun deletes only the caller's team's run and XComs", async () => {
      const store = getStore();
      const { a, b } = await twoTeams(store);
      await runOf(store, a, "r1");
      await runOf(store, b, "r1");
      await store.setXCom(xkey(A), "a", T0);
      await store.setXCom(xkey(B), "b", T0);
      expect(await store.deleteDagRun(A, "etl", "only-b")).toBe(false);
      expect(await store.deleteDagRun(B, "etl", "r1")).toBe(true);
      expect((await store.getDagRun(A, "etl", "r1"))?.team).toBe(A);
      expect(await store.getDagRun(B, "etl", "r1")).toBeNull();
      expect((await store.listTaskInstances(A, "etl", "r1")).total).toBe(1);
      expect((await store.getXCom(xkey(A)))?.value).toBe("a");
      expect(await store.getXCom(xkey(B))).toBeNull();
    });

    test("XComs of the same key in two teams are separate: set, get, list and a clear touch one team", async () => {
      const store = getStore();
      const { a, b } = await twoTeams(store);
      await runOf(store, a, "r1", 1);
      const rb = await runOf(store, b, "r1", 5);
      await store.setXCom(xkey(A), 1, T0);
      await store.setXCom(xkey(B), 2, T0);
      await store.setXCom(xkey(B), 3, T0); // an upsert within B only
      expect(await store.getXCom(xkey(A))).toMatchObject({ team: A, value: 1 });
      expect(await store.getXCom(xkey(B))).toMatchObject({ team: B, value: 3 });
      await store.setXCom(xkey(B, "only-b"), true, T0);
      const keys = async (team: string, f = {}) => (await store.listXComs(team, f)).items.map((x) => `${x.team}/${x.key}`);
      expect(await keys(A)).toEqual([`${A}/rows`]);
      expect(await keys(B, { order_by: "key" })).toEqual([`${B}/only-b`, `${B}/rows`]);
      expect(await keys(A, { key: "only-b" })).toEqual([]);
      // The run-date filters join the XCom's own team's run: A's run is on day 1, B's on day 5.
      expect(await keys(A, { logical_date: { gte: day(4) } })).toEqual([]);
      expect(await keys(B, { logical_date: { gte: day(4) }, key: "rows" })).toEqual([`${B}/rows`]);
      // Clearing B's task instance drops B's XComs of that task and leaves A's alone.
      const [tiB] = (await store.listTaskInstances(B, "etl", "r1")).items;
      const bXcomOfTask = { ...xkey(B), task_id: tiB?.task_id ?? "tb" };
      const aXcomOfSameTask = { ...xkey(A), task_id: tiB?.task_id ?? "tb" };
      await store.setXCom(bXcomOfTask, "b", T0);
      await store.setXCom(aXcomOfSameTask, "a", T0);
      const cleared = await store.applyOperatorChange(
        { clears: [{ id: tiB?.id ?? -1, from: "none", from_try: 1, try_number: 2, max_tries: 0 }] },
        T0,
      );
      expect(cleared.clears).toEqual([true]);
      expect(await store.getXCom(bXcomOfTask)).toBeNull();
      expect((await store.getXCom(aXcomOfSameTask))?.value).toBe("a");
      expect(rb.team).toBe(B);
    });

    test("backfills: each team's DAG has its own, skips look at the team's runs, and another team's is not found", async () => {
      const store = getStore();
      const { a, b } = await twoTeams(store);
      await runOf(store, a, "backfill__1", 1); // A's day 1 is in flight: A's backfill skips it, B's does not
      const plan = (dag: DagRecord) => ({
        team: dag.team,
        dag_id: "etl",
        from_date: day(1),
        to_date: day(2),
        run_backwards: false,
        dag_run_conf: null,
        reprocess_behavior: "none" as const,
        max_active_runs: 5,
        now: day(10),
        skip_existing: backfillSkips("none"),
        runs: [1, 2].map((n) => ({ ...newRun(dag, `backfill__${n}`), run_type: "backfill" as const, logical_date: day(n) })),
      });
      const ba = await store.createBackfill(plan(a));
      const bb = await store.createBackfill(plan(b)); // one open backfill per team's DAG, not per dag_id
      expect(ba.skipped.map((s) => s.reason)).toEqual(["in flight"]);
      expect(ba.created).toHaveLength(1);
      expect(bb.skipped).toEqual([]);
      expect(bb.created).toHaveLength(2);
      await expect(store.createBackfill(plan(b))).rejects.toBeInstanceOf(ConflictError);
      // B's runs are B's, with their planned ids (A's taken backfill__1 does not rename B's).
      expect((await store.listDagRuns(B, { run_type: ["backfill"], order_by: "run_id" })).items.map((r) => [r.team, r.run_id])).toEqual([
        [B, "backfill__1"],
        [B, "backfill__2"],
      ]);
      const id = bb.backfill.id;
      expect(bb.backfill.team).toBe(B);
      expect(await store.getBackfill(A, id)).toBeNull();
      expect((await store.getBackfill(B, id))?.id).toBe(id);
      expect((await store.listBackfills(A)).items.map((x) => [x.team, x.id])).toEqual([[A, ba.backfill.id]]);
      expect((await store.listBackfills(B, { dag_id: "etl" })).total).toBe(1);
      expect(await store.setBackfillPaused(A, id, true, day(11))).toBeNull();
      expect(await store.cancelBackfill(A, id, day(11))).toBeNull();
      const untouched = await store.getBackfill(B, id);
      expect([untouched?.is_paused, untouched?.completed_at]).toEqual([false, null]);
      expect((await store.listDagRuns(B, { run_type: ["backfill"], state: ["queued"] })).total).toBe(2);
      expect((await store.cancelBackfill(B, id, day(11)))?.completed_at).toEqual(day(11));
      expect((await store.listDagRuns(B, { run_type: ["backfill"], state: ["failed"] })).total).toBe(2);
      expect((await store.listDagRuns(A, { state: ["queued"] })).total).toBe(2); // A's runs stay queued
    });

    test("staging volumes carry their team; a volume is an orphan when its own team's run is gone", async () => {
      const store = getStore();
      const { a, b } = await twoTeams(store);
      await runOf(store, a, "r1");
      await runOf(store, b, "r1");
      const vol = (team: string, name: string) => ({ executor: "kubernetes", team, name, dag_id: "etl", run_id: "r1" });
      await store.recordStagingVolume(vol(A, "lf-stg-a"), T0);
      await store.recordStagingVolume(vol(B, "lf-stg-b"), T0);
      expect((await store.listStagingVolumes("kubernetes")).map((v) => [v.team, v.name])).toEqual([
        [A, "lf-stg-a"],
        [B, "lf-stg-b"],
      ]);
      expect(await store.listOrphanStagingVolumes("kubernetes")).toEqual([]);
      await store.deleteDagRun(B, "etl", "r1");
      // A's run of the same ids still exists; B's volume is an orphan all the same.
      expect((await store.listOrphanStagingVolumes("kubernetes")).map((v) => [v.team, v.name])).toEqual([[B, "lf-stg-b"]]);
    });
  });
}
