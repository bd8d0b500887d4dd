/**
 * Store contract for the API's DAG queries: every list filter (patterns, tags any/all, owners, import errors,
 * the latest started run's state and dates), several sort keys, bulk pause, delete with its history, versions
 * with their creation time, run counts per state, and distinct tags.
 */
import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../src/domain/schemas";
import type { DagFilter, Store } from "../../src/store";
import { T0, newRun } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);

async function seed(store: Store) {
  const dag = (id: string, extra: object, file = `/dags/${id}.json`) =>
    store.upsertDag("default", {
      spec: parseDagSpec({ dag_id: id, tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }], ...extra }),
      fileloc: file,
      pausedOnCreate: false,
      now: T0,
    });
  const etl = await dag("etl", { tags: ["prod", "db"], default_args: { owner: "Data_Team" } });
  const report = await dag("Report", { tags: ["adhoc"] });
  await dag("ml_train", { tags: ["prod"], default_args: { owner: "alice" } });
  await store.setDagPaused("default", "Report", true);
  return { etl, report };
}

/** A run of the DAG started at `start` seconds, ended at start+60 unless it is still running. */
async function started(
  store: Store,
  dag: { team: string; dag_id: string; version_id: number },
  runId: string,
  start: number,
  to: "running" | "success" | "failed",
) {
  const run = await store.createDagRun(newRun(dag, runId, { tasks: [] }));
  await store.setDagRunState(run.id, ["queued"], "running", at(start));
  if (to !== "running") await store.setDagRunState(run.id, ["running"], to, at(start + 60));
}

export function dagsQueryContract(getStore: () => Store): void {
  describe("DAG queries", () => {
    const ids = async (f: DagFilter) => (await getStore().findDags("default", f)).items.map((d) => d.dag_id);

    test("patterns (case-insensitive, all must match), tags any/all, owners, paused, active", async () => {
      const store = getStore();
      await seed(store);
      expect(await ids({})).toEqual(["Report", "etl", "ml_train"]);
      expect(await ids({ dag_id_patterns: ["%REP%"] })).toEqual(["Report"]);
      expect(await ids({ dag_id_patterns: ["%t%", "%l%"] })).toEqual(["etl", "ml_train"]);
      expect(await ids({ dag_id_patterns: ["ml\\_%"] })).toEqual(["ml_train"]);
      expect(await ids({ tags: ["db", "adhoc"] })).toEqual(["Report", "etl"]);
      expect(await ids({ tags: ["prod", "db"], tags_match_mode: "all" })).toEqual(["etl"]);
      expect(await ids({ owners: ["data_team"] })).toEqual(["etl"]);
      expect(await ids({ owners: ["ALI", "nobody"] })).toEqual(["ml_train"]);
      expect(await ids({ owners: ["e_m"] })).toEqual([]); // `_` in an owner is literal ("Team" has no "e_m")
      expect(await ids({ paused: true })).toEqual(["Report"]);
      await store.deactivateDagsOfFile("default", "/dags/ml_train.json", []);
      expect(await ids({ only_active: true })).toEqual(["Report", "etl"]);
      await store.replaceImportErrors("default", "/dags/etl.json", ["broken"], T0);
      expect(await ids({ has_import_errors: true })).toEqual(["etl"]);
      expect(await ids({ has_import_errors: false })).toEqual(["Report", "ml_train"]);
      const page = await store.findDags("default", { limit: 1, offset: 1 });
      expect(page).toMatchObject({ total: 3, items: [{ dag_id: "etl" }] });
    });

    test("the latest started run's state and dates; sorting by them and by several keys", async () => {
      const store = getStore();
      const { etl, report } = await seed(store);
      await started(store, etl, "a", 10, "failed");
      await started(store, etl, "b", 100, "success");
      await started(store, report, "a", 50, "running");
      await store.createDagRun(newRun(etl, "never-started", { tasks: [] })); // not a started run: ignored
      expect(await ids({ last_run_state: ["success"] })).toEqual(["etl"]);
      expect(await ids({ last_run_state: ["failed"] })).toEqual([]);
      expect(await ids({ last_run_start_date: { gte: at(50) } })).toEqual(["Report", "etl"]);
      expect(await ids({ last_run_start_date: { gt: at(50), lt: at(101) } })).toEqual(["etl"]);
      expect(await ids({ last_run_end_date: { lte: at(200) } })).toEqual(["etl"]);
      expect(await ids({ order_by_list: ["-last_run_start_date"] })).toEqual(["ml_train", "etl", "Report"]);
      expect(await ids({ order_by_list: ["last_run_state", "-dag_id"] })).toEqual(["Report", "etl", "ml_train"]);
      expect(await ids({ order_by_list: ["is_paused", "dag_display_name"] })).toEqual(["etl", "ml_train", "Report"]);
      await expect(store.findDags("default", { order_by_list: ["next_dagrun"] })).rejects.toThrow("next_dagrun");
    });

    test("bulk pause changes every match (not one page) and says how many", async () => {
      const store = getStore();
      await seed(store);
      expect(await store.setDagsPaused("default", { tags: ["prod"], limit: 1 }, true)).toBe(2);
      expect(await ids({ paused: true })).toEqual(["Report", "etl", "ml_train"]);
      expect(await store.setDagsPaused("default", { dag_id_patterns: ["%"] }, false)).toBe(3);
      expect(await ids({ paused: false })).toEqual(["Report", "etl", "ml_train"]);
    });

    test("delete takes the DAG's runs, task instances, XComs and versions; refused while a task is queued or running", async () => {
      const store = getStore();
      const { etl, report } = await seed(store);
      const run = await store.createDagRun(newRun(etl, "r1"));
      const [ti] = (await store.listTaskInstances("default", "etl", "r1")).items;
      await store.applyTransitions([{ id: ti!.id, from: ["none"], to: "scheduled" }], T0);
      await store.applyTransitions([{ id: ti!.id, from: ["scheduled"], to: "queued" }], T0);
      expect(await store.deleteDag("default", "etl")).toBe("running");
      expect(await store.getDag("default", "etl")).not.toBeNull();
      await store.applyTransitions([{ id: ti!.id, from: ["queued"], to: "failed" }], T0);
      await store.setXCom({ team: "default", dag_id: "etl", run_id: "r1", task_id: "t", map_index: -1, key: "return_value" }, { n: 1 }, T0);
      expect(await store.deleteDag("default", "etl")).toBe("deleted");
      expect(await store.getDag("default", "etl")).toBeNull();
      expect(await store.getDagRunById(run.id)).toBeNull();
      expect(await store.getTaskInstanceById(ti!.id)).toBeNull();
      expect(await store.getDagVersion(etl.version_id)).toBeNull();
      expect((await store.listDagVersions("default", { dag_id: "etl" })).total).toBe(0);
      expect(await store.deleteDag("default", "etl")).toBe("not_found");
      expect(await store.getDag("default", report.dag_id)).not.toBeNull();
      // The file still defines it: it comes back as a new DAG.
      const back = await store.upsertDag("default", { spec: etl.spec, fileloc: etl.fileloc, pausedOnCreate: true, now: at(5) });
      expect(back.is_paused).toBe(true);
    });

    test("versions with their creation time; run counts per state; distinct tags", async () => {
      const store = getStore();
      const { etl, report } = await seed(store);
      const v2 = await store.upsertDag("default", {
        spec: parseDagSpec({ ...etl.spec, description: "v2" }),
        fileloc: etl.fileloc,
        pausedOnCreate: false,
        now: at(30),
      });
      const versions = await store.listDagVersions("default", { dag_id: "etl" });
      expect(versions).toEqual({
        total: 2,
        items: [
          { version_id: etl.version_id, dag_id: "etl", created_at: T0, version_number: 1 },
          { version_id: v2.version_id, dag_id: "etl", created_at: at(30), version_number: 2 },
        ],
      });
      expect((await store.listDagVersions("default", { dag_id: "etl", version_id: v2.version_id })).items).toHaveLength(1);
      // version_number counts within the DAG (Airflow's); the id is server-wide.
      expect((await store.listDagVersions("default", { dag_id: "etl", version_number: 2 })).items.map((v) => v.version_id)).toEqual([
        v2.version_id,
      ]);
      expect((await store.listDagVersions("default", { dag_id: "Report" })).items.map((v) => v.version_number)).toEqual([1]);
      expect((await store.listDagVersions("default", { order_by: "-version_number", limit: 1 })).items[0]!.version_id).toBe(v2.version_id);
      expect((await store.listDagVersions("default", {})).total).toBe(4);

      await started(store, etl, "a", 1, "success");
      await started(store, etl, "b", 2, "success");
      await started(store, report, "a", 3, "failed");
      expect(await store.countDagRunStates("default")).toEqual([
        { dag_id: "Report", state: "failed", count: 1 },
        { dag_id: "etl", state: "success", count: 2 },
      ]);
      expect(await store.countDagRunStates("default", ["etl"])).toEqual([{ dag_id: "etl", state: "success", count: 2 }]);

      expect(await store.listDagTags("default", {})).toEqual({ items: ["adhoc", "db", "prod"], total: 3 });
      expect(await store.listDagTags("default", { order_by: "-name", limit: 1 })).toEqual({ items: ["prod"], total: 3 });
      expect(await store.listDagTags("default", { pattern: "%D%" })).toEqual({
        items: ["adhoc", "db", "prod"].filter((t) => t.includes("d")),
        total: 3,
      });
    });

    test("latestScheduledLogicalDates: each DAG's latest scheduled run's logical_date, in one team; other run types do not count", async () => {
      const store = getStore();
      const { etl, report } = await seed(store);
      await store.ensureTeam("team-b", T0);
      const otherTeam = await store.upsertDag("team-b", {
        spec: parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] }),
        fileloc: "/dags/etl.json",
        pausedOnCreate: false,
        now: T0,
      });
      const scheduled = (dag: typeof etl, day: number) =>
        newRun(dag, `scheduled__${day}`, { run_type: "scheduled", logical_date: at(day * 86_400), tasks: [] });
      expect(await store.latestScheduledLogicalDates("default", [])).toEqual(new Map());
      for (const run of [scheduled(etl, 3), scheduled(etl, 1), scheduled(report, 2), scheduled(otherTeam, 9)])
        await store.createDagRun(run);
      // Newer, but not scheduled: a manual run, a backfill, and a manual run without a logical date.
      await store.createDagRun(newRun(etl, "manual", { logical_date: at(5 * 86_400), tasks: [] }));
      await store.createDagRun(newRun(etl, "backfill__x", { run_type: "backfill", logical_date: at(7 * 86_400), tasks: [] }));
      await store.createDagRun(newRun(etl, "manual_nodate", { tasks: [] }));
      const latest = await store.latestScheduledLogicalDates("default", ["etl", "Report", "ml_train", "missing"]);
      expect(latest).toEqual(
        new Map([
          ["etl", at(3 * 86_400)],
          ["Report", at(2 * 86_400)],
        ]),
      );
      expect(await store.latestScheduledLogicalDates("team-b", ["etl", "Report"])).toEqual(new Map([["etl", at(9 * 86_400)]]));
    });
  });
}
