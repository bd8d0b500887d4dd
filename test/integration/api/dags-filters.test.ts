import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../../src/domain/schemas";
import { NOW, forEachApiStore, type Harness } from "./harness";

forEachApiStore((makeHarness) => {
  const OWNED = {
    dag_id: "owned_etl",
    tags: ["prod"],
    default_args: { owner: "Data-Team", retries: 1 },
    tasks: [
      { task_id: "a", operator: "bash", bash_command: "true" },
      { task_id: "b", operator: "bash", bash_command: "true", owner: "alice", upstream: ["a"] },
    ],
  };

  /** etl (tags prod, db), report (adhoc, paused), owned_etl (prod; owners Data-Team, alice). */
  async function harness(): Promise<Harness> {
    const h = await makeHarness();
    await h.store.upsertDag("default", { spec: parseDagSpec(OWNED), fileloc: "/dags/owned.json", pausedOnCreate: false, now: NOW });
    return h;
  }

  /** A run of `dagId` that started at `start` and ended (success or failed) or is still running. */
  async function run(h: Harness, dagId: string, runId: string, start: string, state: "running" | "success" | "failed") {
    const dag = (await h.store.getDag("default", dagId))!;
    const r = await h.store.createDagRun({
      team: dag.team,
      dag_id: dagId,
      run_id: runId,
      run_type: "manual",
      logical_date: null,
      data_interval_start: null,
      data_interval_end: null,
      conf: {},
      version_id: dag.version_id,
      queued_at: new Date(start),
      tasks: [],
    });
    await h.store.setDagRunState(r.id, ["queued"], "running", new Date(start));
    if (state !== "running") await h.store.setDagRunState(r.id, ["running"], state, new Date(Date.parse(start) + 60_000));
  }

  const ids = async (h: Harness, q: string) => {
    const r = await h.json("GET", `/api/v2/dags?${q}`);
    expect(r.status).toBe(200);
    return r.body.dags.map((d: any) => d.dag_id);
  };

  describe("GET /dags filters", () => {
    test("dag_id_pattern and dag_display_name_pattern: case-insensitive LIKE anywhere; ~ matches all", async () => {
      const h = await harness();
      expect(await ids(h, "dag_id_pattern=ETL")).toEqual(["etl", "owned_etl"]);
      expect(await ids(h, "dag_id_pattern=x_z")).toEqual([]);
      expect(await ids(h, "dag_id_pattern=o_n")).toEqual(["owned_etl"]);
      expect(await ids(h, "dag_id_pattern=~")).toEqual(["etl", "owned_etl", "report"]);
      expect(await ids(h, "dag_display_name_pattern=rep")).toEqual(["report"]);
      expect(await ids(h, "dag_id_pattern=etl&dag_display_name_pattern=owned")).toEqual(["owned_etl"]);
      const page = await h.json("GET", "/api/v2/dags?dag_id_pattern=etl&limit=1");
      expect(page.body.total_entries).toBe(2);
    });

    test("tags with tags_match_mode any (default) and all", async () => {
      const h = await harness();
      expect(await ids(h, "tags=db&tags=adhoc")).toEqual(["etl", "report"]);
      expect(await ids(h, "tags=prod&tags=db&tags_match_mode=all")).toEqual(["etl"]);
      expect(await ids(h, "tags=prod&tags_match_mode=any")).toEqual(["etl", "owned_etl"]);
      expect((await h.json("GET", "/api/v2/dags?tags_match_mode=some")).body.detail[0].loc).toEqual(["query", "tags_match_mode"]);
    });

    test("owners: default_args.owner is allowed and shown; the filter matches any owner, case-insensitively", async () => {
      const h = await harness();
      const d = (await h.json("GET", "/api/v2/dags/owned_etl")).body;
      expect(d.owners).toEqual(["Data-Team", "alice"]);
      expect((await h.json("GET", "/api/v2/dags/etl")).body.owners).toEqual([]);
      expect(await ids(h, "owners=data-team")).toEqual(["owned_etl"]);
      expect(await ids(h, "owners=ALICE&owners=nobody")).toEqual(["owned_etl"]);
      expect(await ids(h, "owners=nobody")).toEqual([]);
      expect((await h.json("GET", "/api/v2/dags/owned_etl/tasks/b")).body.owner).toBe("alice");
    });

    test("last run state and dates apply to each DAG's latest started run", async () => {
      const h = await harness();
      await run(h, "etl", "r1", "2026-02-01T00:00:00Z", "failed");
      await run(h, "etl", "r2", "2026-02-02T00:00:00Z", "success");
      await run(h, "report", "r1", "2026-02-03T00:00:00Z", "running");
      expect(await ids(h, "last_dag_run_state=success")).toEqual(["etl"]);
      expect(await ids(h, "last_dag_run_state=failed")).toEqual([]);
      expect(await ids(h, "dag_run_state=running&dag_run_state=success")).toEqual(["etl", "report"]);
      expect(await ids(h, "dag_run_start_date_gte=2026-02-02T12:00:00Z")).toEqual(["report"]);
      expect(await ids(h, "dag_run_end_date_lte=2026-02-02T00:01:00Z")).toEqual(["etl"]);
      expect(await ids(h, "order_by=-last_run_start_date&order_by=dag_id")).toEqual(["owned_etl", "report", "etl"]);
      expect(await ids(h, "order_by=last_run_state")).toEqual(["report", "etl", "owned_etl"]);
    });

    test("a date that is not one is a 422 naming the field; a bad state too", async () => {
      const h = await harness();
      const r = await h.json("GET", "/api/v2/dags?dag_run_start_date_gte=yesterday");
      expect(r.status).toBe(422);
      expect(r.body.detail[0].loc).toEqual(["query", "dag_run_start_date_gte"]);
      const s = await h.json("GET", "/api/v2/dags?last_dag_run_state=done");
      expect(s.status).toBe(422);
      expect(s.body.detail[0].loc).toEqual(["query", "last_dag_run_state"]);
    });

    test("has_import_errors, exclude_stale, and the concepts Leoflow DAGs lack (bundles, assets, favorites)", async () => {
      const h = await harness();
      await h.store.replaceImportErrors("default", "/dags/etl.json", ["tasks[0]: broken"], NOW);
      expect(await ids(h, "has_import_errors=true")).toEqual(["etl"]);
      expect(await ids(h, "has_import_errors=false")).toEqual(["owned_etl", "report"]);
      // The field says what the filter selects (it was always false), in the list, the DAG and its details.
      const listed = (await h.json("GET", "/api/v2/dags")).body.dags as { dag_id: string; has_import_errors: boolean }[];
      expect(listed.map((d) => [d.dag_id, d.has_import_errors])).toEqual([
        ["etl", true],
        ["owned_etl", false],
        ["report", false],
      ]);
      expect((await h.json("GET", "/api/v2/dags/etl")).body.has_import_errors).toBe(true);
      expect((await h.json("GET", "/api/v2/dags/etl/details")).body.has_import_errors).toBe(true);
      expect((await h.json("GET", "/api/v2/dags/report")).body.has_import_errors).toBe(false);
      await h.store.deactivateDagsOfFile("default", "/dags/report.json", []);
      expect(await ids(h, "")).toEqual(["etl", "owned_etl"]);
      expect(await ids(h, "exclude_stale=false")).toEqual(["etl", "owned_etl", "report"]);
      expect(await ids(h, "bundle_name=dags-folder")).toEqual([]);
      expect(await ids(h, "has_asset_schedule=true")).toEqual([]);
      expect(await ids(h, "has_asset_schedule=false")).toEqual(["etl", "owned_etl"]);
      expect(await ids(h, "is_favorite=true")).toEqual([]);
      expect(await ids(h, "unknown_param=1")).toEqual(["etl", "owned_etl"]);
    });

    test("order_by: several keys, display name, and a 400 naming a bad one", async () => {
      const h = await harness();
      expect(await ids(h, "order_by=-dag_display_name")).toEqual(["report", "owned_etl", "etl"]);
      expect(await ids(h, "order_by=is_paused&order_by=-dag_id")).toEqual(["owned_etl", "etl", "report"]);
      const bad = await h.json("GET", "/api/v2/dags?order_by=next_dagrun");
      expect(bad.status).toBe(400);
      expect(bad.body.detail).toContain("next_dagrun");
    });
  });

  describe("PATCH /dags and /dags/{dag_id}", () => {
    test("bulk pause by dag_id_pattern; without a pattern nothing matches", async () => {
      const h = await harness();
      const none = await h.json("PATCH", "/api/v2/dags", { body: { is_paused: true } });
      expect(none.body).toEqual({ dags: [], total_entries: 0 });
      const r = await h.json("PATCH", "/api/v2/dags?dag_id_pattern=etl", { body: { is_paused: true } });
      expect(r.status).toBe(200);
      expect(r.body.total_entries).toBe(2);
      expect(r.body.dags.map((d: any) => [d.dag_id, d.is_paused])).toEqual([
        ["etl", true],
        ["owned_etl", true],
      ]);
      expect(await ids(h, "paused=false")).toEqual([]);
      // Nothing matched: no wake. A pause wakes the scheduler (its next tick holds the runs), an unpause too.
      expect(h.wakes.length).toBe(1);
      const all = await h.json("PATCH", "/api/v2/dags?dag_id_pattern=~&paused=true", { body: { is_paused: false } });
      expect(all.body.total_entries).toBe(3);
      expect(h.wakes.length).toBe(2);
      expect(await ids(h, "paused=true")).toEqual([]);
    });

    test("update_mask other than is_paused is a 400; is_paused is accepted", async () => {
      const h = await harness();
      const bad = await h.json("PATCH", "/api/v2/dags/etl?update_mask=description", { body: { is_paused: true } });
      expect(bad.status).toBe(400);
      expect(bad.body.detail).toContain("is_paused");
      const ok = await h.json("PATCH", "/api/v2/dags/etl?update_mask=is_paused", { body: { is_paused: true } });
      expect(ok.body.is_paused).toBe(true);
      expect((await h.json("PATCH", "/api/v2/dags?dag_id_pattern=~&update_mask=owners", { body: { is_paused: true } })).status).toBe(400);
    });
  });

  describe("DELETE /dags/{dag_id}", () => {
    test("deletes the DAG and its history; refuses while a task runs; 404 when unknown", async () => {
      const h = await harness();
      await run(h, "etl", "r1", "2026-02-01T00:00:00Z", "success");
      const d = await h.json("DELETE", "/api/v2/dags/etl");
      expect(d.status).toBe(200);
      expect(await h.store.getDag("default", "etl")).toBeNull();
      expect((await h.store.listDagRuns("default", { dag_id: "etl" })).total).toBe(0);
      expect((await h.json("DELETE", "/api/v2/dags/etl")).status).toBe(404);

      const dag = (await h.store.getDag("default", "owned_etl"))!;
      const r = await h.store.createDagRun({
        team: dag.team,
        dag_id: "owned_etl",
        run_id: "busy",
        run_type: "manual",
        logical_date: null,
        data_interval_start: null,
        data_interval_end: null,
        conf: {},
        version_id: dag.version_id,
        queued_at: NOW,
        tasks: [{ task_id: "a", operator: "bash", max_tries: 0, pool: "default_pool", pool_slots: 1, priority_weight: 1 }],
      });
      const [ti] = (await h.store.listTaskInstances("default", "owned_etl", "busy")).items;
      await h.store.applyTransitions([{ id: ti!.id, from: ["none"], to: "scheduled" }], NOW);
      await h.store.applyTransitions([{ id: ti!.id, from: ["scheduled"], to: "queued" }], NOW);
      const busy = await h.json("DELETE", "/api/v2/dags/owned_etl");
      expect(busy.status).toBe(409); // Airflow 3's answer while its task instances run
      expect(busy.body.detail).toContain("still running");
      expect(await h.store.getDag("default", "owned_etl")).not.toBeNull();
      expect(r.run_id).toBe("busy");
    });

    test("a deleted DAG whose file still defines it is parsed again", async () => {
      const reparsed: string[] = [];
      const h = await makeHarness({ dagFiles: { reparse: async (team, f) => void reparsed.push(`${team} ${f}`) } });
      expect((await h.json("DELETE", "/api/v2/dags/etl")).status).toBe(200);
      expect(reparsed).toEqual(["default /dags/etl.json"]);
    });
  });
});
