/**
 * Store contract for teams (issue 21), DAG side: DAGs, their versions, lookups by name, DAG sync and import
 * errors. Two teams hold a DAG with the same dag_id (from different files, different content); each team
 * sees only its own through every method, and a write in one team never touches the other.
 */
import { describe, expect, test } from "bun:test";
import { DEFAULT_TEAM, type DagRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";
import { T0, newRun, runTask } from "./contract-fixtures";

const A = DEFAULT_TEAM;
const B = "team-b";
const later = new Date(T0.getTime() + 60_000);

/** The same dag_id in both teams, each from its own file, with its own tags and tasks. */
async function twoTeams(store: Store) {
  expect(await store.ensureTeam(B, T0)).toBe(true);
  const dag = (team: string, tag: string, taskId: string) =>
    store.upsertDag(team, {
      spec: parseDagSpec({ dag_id: "etl", tags: [tag], tasks: [{ task_id: taskId, operator: "bash", bash_command: "true" }] }),
      fileloc: `/dags/${team}/etl.json`,
      pausedOnCreate: false,
      now: T0,
    });
  const a = await dag(A, "tag-a", "ta");
  const b = await dag(B, "tag-b", "tb");
  return { a, b };
}

/** One run "r1" of the DAG, in the DAG's team, with its one task. */
const runOf = (store: Store, dag: DagRecord) =>
  store.createDagRun({
    ...newRun(dag, "r1"),
    team: dag.team,
    tasks: [runTask(dag.spec.tasks[0]?.task_id ?? "t")],
  });

export function teamsDagsContract(getStore: () => Store): void {
  describe("teams: DAGs", () => {
    test("ensureTeam creates a team once, with its own default_pool", async () => {
      const store = getStore();
      expect(await store.ensureTeam(B, T0)).toBe(true);
      expect(await store.ensureTeam(B, later)).toBe(false);
      expect(await store.ensureTeam(A, T0)).toBe(false);
      expect((await store.getPool(B, "default_pool"))?.slots).toBe(128);
    });

    test("the same dag_id in two teams is two DAGs, each with its own file, spec and versions", async () => {
      const store = getStore();
      const { a, b } = await twoTeams(store);
      expect([a.team, b.team]).toEqual([A, B]);
      expect(a.version_id).not.toBe(b.version_id);
      const [gotA, gotB] = [await store.getDag(A, "etl"), await store.getDag(B, "etl")];
      expect(gotA?.fileloc).toBe(`/dags/${A}/etl.json`);
      expect(gotB?.fileloc).toBe(`/dags/${B}/etl.json`);
      expect(gotB?.spec.tasks.map((t) => t.task_id)).toEqual(["tb"]);
      expect(await store.getDag("team-c", "etl")).toBeNull();
      // The same content in both teams still makes one version per team.
      const again = await store.upsertDag(B, { spec: a.spec, fileloc: `/dags/${B}/etl.json`, pausedOnCreate: false, now: later });
      expect(again.version_id).not.toBe(a.version_id);
      expect((await store.listDagVersions(A, { dag_id: "etl" })).items.map((v) => v.version_id)).toEqual([a.version_id]);
      expect((await store.listDagVersions(B, { dag_id: "etl" })).items.map((v) => v.version_id)).toEqual([b.version_id, again.version_id]);
      expect((await store.listDagVersions(A, { version_id: b.version_id })).total).toBe(0);
    });

    test("lists, filters, tags and the scheduled list keep each team's DAGs apart", async () => {
      const store = getStore();
      await twoTeams(store);
      for (const [team, tag] of [
        [A, "tag-a"],
        [B, "tag-b"],
      ] as const) {
        const listed = await store.listDags(team);
        expect(listed.items.map((d) => [d.team, d.dag_id])).toEqual([[team, "etl"]]);
        expect(listed.total).toBe(1);
        expect((await store.findDags(team, {})).items.map((d) => d.team)).toEqual([team]);
        expect((await store.findDags(team, { tags: ["tag-a", "tag-b"] })).total).toBe(1);
        expect((await store.listDagTags(team, {})).items).toEqual([tag]);
      }
      const scheduled = await store.listScheduledDags();
      expect(scheduled.every((s) => s.dag.team === A || s.dag.team === B)).toBe(true);
    });

    test("pausing, bulk pausing and deleting in one team leave the other team's DAG as it was", async () => {
      const store = getStore();
      const { b } = await twoTeams(store);
      await runOf(store, b);
      expect((await store.setDagPaused(A, "etl", true))?.is_paused).toBe(true);
      expect((await store.getDag(B, "etl"))?.is_paused).toBe(false);
      expect(await store.setDagsPaused(B, { dag_id_patterns: ["%"] }, true)).toBe(1);
      expect(await store.setDagsPaused(A, { dag_id_patterns: ["%"] }, false)).toBe(1);
      expect((await store.getDag(B, "etl"))?.is_paused).toBe(true);
      expect(await store.deleteDag(A, "etl")).toBe("deleted");
      expect(await store.getDag(A, "etl")).toBeNull();
      expect((await store.getDag(B, "etl"))?.version_id).toBe(b.version_id);
      expect((await store.getDagRun(B, "etl", "r1"))?.team).toBe(B);
      expect(await store.deleteDag(A, "etl")).toBe("not_found");
    });

    test("runs and task instances by name are found only in their team; run counts are per team", async () => {
      const store = getStore();
      const { a, b } = await twoTeams(store);
      const runB = await runOf(store, b);
      expect(await store.getDagRun(A, "etl", "r1")).toBeNull();
      expect(await store.getTaskInstance(A, "etl", "r1", "tb")).toBeNull();
      expect((await store.getDagRun(B, "etl", "r1"))?.id).toBe(runB.id);
      expect((await store.getTaskInstance(B, "etl", "r1", "tb"))?.team).toBe(B);
      const runA = await runOf(store, a);
      expect(runA.id).not.toBe(runB.id);
      expect((await store.getTaskInstance(A, "etl", "r1", "ta"))?.dag_run_id).toBe(runA.id);
      expect(await store.countDagRunStates(A)).toEqual([{ dag_id: "etl", state: "queued", count: 1 }]);
      expect(await store.countDagRunStates(B, ["etl"])).toEqual([{ dag_id: "etl", state: "queued", count: 1 }]);
      await store.setDagRunState(runB.id, ["queued"], "running", later);
      expect((await store.findDags(A, { last_run_state: ["running"] })).total).toBe(0);
      expect((await store.findDags(B, { last_run_state: ["running"] })).total).toBe(1);
    });

    test("deactivation and import errors of a file act in its team only", async () => {
      const store = getStore();
      await twoTeams(store);
      const file = "/dags/shared.json";
      await store.replaceImportErrors(A, file, ["a: broken"], T0);
      await store.replaceImportErrors(B, file, ["b: broken", "b: worse"], T0);
      const errorsOf = async (team: string) => (await store.listImportErrors(team)).items.map((e) => [e.team, e.stack_trace]);
      expect(await errorsOf(A)).toEqual([[A, "a: broken"]]);
      expect(await errorsOf(B)).toEqual([
        [B, "b: broken"],
        [B, "b: worse"],
      ]);
      const [errA] = (await store.listImportErrors(A)).items;
      expect((await store.getImportError(A, errA?.id ?? -1))?.stack_trace).toBe("a: broken");
      expect(await store.getImportError(B, errA?.id ?? -1)).toBeNull();
      await store.replaceImportErrors(A, file, [], later);
      expect(await errorsOf(A)).toEqual([]);
      expect((await store.listImportErrors(B, { filename_pattern: "%shared%" })).total).toBe(2);
      // A file with import errors in B does not count as one in A.
      await store.replaceImportErrors(B, `/dags/${A}/etl.json`, ["b: not A's problem"], later);
      expect((await store.findDags(A, { has_import_errors: true })).total).toBe(0);

      await store.deactivateDagsOfFile(A, `/dags/${B}/etl.json`, []);
      expect((await store.getDag(B, "etl"))?.is_active).toBe(true);
      await store.deactivateDagsOfFile(B, `/dags/${B}/etl.json`, []);
      expect((await store.getDag(B, "etl"))?.is_active).toBe(false);
      expect((await store.getDag(A, "etl"))?.is_active).toBe(true);
    });
  });
}
