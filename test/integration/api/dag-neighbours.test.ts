import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../../src/domain/schemas";
import { ETL, NOW, forEachApiStore, type Harness } from "./harness";

forEachApiStore((makeHarness) => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  async function runOf(h: Harness, dagId: string, runId: string, to: "running" | "success" | "failed" | "queued") {
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
      queued_at: NOW,
      tasks: [],
    });
    if (to !== "queued") await h.store.setDagRunState(r.id, ["queued"], "running", NOW);
    if (to === "success" || to === "failed") await h.store.setDagRunState(r.id, ["running"], to, NOW);
  }

  describe("dag versions", () => {
    test("a version is a stable UUID with its creation time, in details, runs and the versions list", async () => {
      const h = await makeHarness();
      const later = new Date("2026-03-02T00:00:00Z");
      await h.store.upsertDag("default", {
        spec: parseDagSpec({ ...ETL, description: "v2" }),
        fileloc: "/dags/etl.json",
        pausedOnCreate: false,
        now: later,
      });
      const list = await h.json("GET", "/api/v2/dags/etl/dagVersions");
      expect(list.status).toBe(200);
      expect(list.body.total_entries).toBe(2);
      const [v1, v2] = list.body.dag_versions;
      // Numbered per DAG, as Airflow does (version ids are server-wide: report's version sits between these two).
      expect([v1.version_number, v2.version_number]).toEqual([1, 2]);
      expect((await h.json("GET", "/api/v2/dags/report/dagVersions")).body.dag_versions.map((v: any) => v.version_number)).toEqual([1]);
      expect((await h.json("GET", "/api/v2/dags/report/dagVersions/1")).body).toMatchObject({ dag_id: "report", version_number: 1 });
      expect(v1.id).toMatch(UUID);
      expect(v1.id).not.toBe(v2.id);
      expect(v1).toMatchObject({ dag_id: "etl", created_at: NOW.toISOString(), bundle_name: null, dag_display_name: "etl" });
      expect(v2.created_at).toBe(later.toISOString());
      const details = (await h.json("GET", "/api/v2/dags/etl/details")).body;
      expect(details.latest_dag_version).toEqual(v2);
      const one = await h.json("GET", `/api/v2/dags/etl/dagVersions/${v1.version_number}`);
      expect(one.body).toEqual(v1);
      expect((await h.json("GET", "/api/v2/dags/etl/dagVersions/999")).status).toBe(404);
      expect((await h.json("GET", "/api/v2/dags/etl/dagVersions/one")).status).toBe(422);
      expect((await h.json("GET", "/api/v2/dags/nope/dagVersions")).status).toBe(404);
      const all = await h.json("GET", "/api/v2/dags/~/dagVersions?order_by=-version_number&limit=1");
      expect(all.body.total_entries).toBe(3);
      expect(all.body.dag_versions[0]).toEqual(v2);
      expect((await h.json("GET", `/api/v2/dags/etl/dagVersions?version_number=${v1.version_number}`)).body.dag_versions).toEqual([v1]);
      expect((await h.json("GET", "/api/v2/dags/etl/dagVersions?bundle_name=x")).body).toEqual({ dag_versions: [], total_entries: 0 });
      await runOf(h, "etl", "r1", "queued");
      const run = (await h.json("GET", "/api/v2/dags/etl/dagRuns/r1")).body;
      expect(run.dag_versions[0]).toEqual(v2);
    });

    test("details: dag_run_timeout as an ISO 8601 duration", async () => {
      const h = await makeHarness();
      await h.store.upsertDag("default", {
        spec: parseDagSpec({ ...ETL, dagrun_timeout: 90061 }),
        fileloc: "/dags/etl.json",
        pausedOnCreate: false,
        now: NOW,
      });
      expect((await h.json("GET", "/api/v2/dags/etl/details")).body.dag_run_timeout).toBe("P1DT1H1M1S");
    });
  });

  describe("dagStats, dagTags, dagWarnings", () => {
    test("dagStats: every run state counted per DAG, zeros included", async () => {
      const h = await makeHarness();
      await runOf(h, "etl", "a", "success");
      await runOf(h, "etl", "b", "success");
      await runOf(h, "etl", "c", "failed");
      await runOf(h, "report", "a", "running");
      const all = (await h.json("GET", "/api/v2/dagStats")).body;
      expect(all.total_entries).toBe(2);
      expect(all.dags[0]).toEqual({
        dag_id: "etl",
        dag_display_name: "etl",
        stats: [
          { state: "queued", count: 0 },
          { state: "running", count: 0 },
          { state: "success", count: 2 },
          { state: "failed", count: 1 },
        ],
      });
      const one = (await h.json("GET", "/api/v2/dagStats?dag_ids=report&dag_ids=nope")).body;
      expect(one.dags.map((d: any) => d.dag_id)).toEqual(["report"]);
      expect((await h.json("GET", "/api/v2/dagStats?dag_ids=etl,report")).body.total_entries).toBe(2);
    });

    test("dagTags: distinct names, paged, with a pattern and order", async () => {
      const h = await makeHarness();
      expect((await h.json("GET", "/api/v2/dagTags")).body).toEqual({ tags: ["adhoc", "db", "prod"], total_entries: 3 });
      expect((await h.json("GET", "/api/v2/dagTags?order_by=-name&limit=2")).body).toEqual({ tags: ["prod", "db"], total_entries: 3 });
      expect((await h.json("GET", "/api/v2/dagTags?tag_name_pattern=D")).body.tags).toEqual(
        ["adhoc", "db", "prod"].filter((t) => t.includes("d")),
      );
      expect((await h.json("GET", "/api/v2/dagTags?order_by=dag_id")).status).toBe(400);
    });

    test("dagWarnings: a task naming a pool nobody created", async () => {
      const h = await makeHarness();
      expect((await h.json("GET", "/api/v2/dagWarnings")).body).toEqual({ dag_warnings: [], total_entries: 0 });
      await h.store.upsertDag("default", {
        spec: parseDagSpec({ dag_id: "pooled", tasks: [{ task_id: "t", operator: "bash", bash_command: "true", pool: "gpu" }] }),
        fileloc: "/dags/pooled.json",
        pausedOnCreate: false,
        now: NOW,
      });
      const w = (await h.json("GET", "/api/v2/dagWarnings")).body;
      expect(w.total_entries).toBe(1);
      expect(w.dag_warnings[0]).toMatchObject({ dag_id: "pooled", warning_type: "non-existent pool", dag_display_name: "pooled" });
      expect(w.dag_warnings[0].message).toContain("gpu");
      expect((await h.json("GET", "/api/v2/dagWarnings?warning_type=asset%20conflict")).body.total_entries).toBe(0);
      expect((await h.json("GET", "/api/v2/dagWarnings?dag_id=etl")).body.total_entries).toBe(0);
      expect((await h.json("GET", "/api/v2/dagWarnings?warning_type=other")).status).toBe(422);
    });
  });

  describe("parseDagFile", () => {
    test("re-parses the file a DAG's file_token names; 404 for a token of no known file", async () => {
      const reparsed: string[] = [];
      const h = await makeHarness({ dagFiles: { reparse: async (team, f) => void reparsed.push(`${team} ${f}`) } });
      const token = (await h.json("GET", "/api/v2/dags/etl")).body.file_token;
      const r = await h.call("PUT", `/api/v2/parseDagFile/${token}`);
      expect(r.status).toBe(201);
      expect(await r.json()).toBeNull();
      expect(reparsed).toEqual(["default /dags/etl.json"]);
      const other = Buffer.from("/etc/passwd").toString("base64url");
      expect((await h.json("PUT", `/api/v2/parseDagFile/${other}`)).status).toBe(404);
      expect((await h.json("PUT", "/api/v2/parseDagFile/not*a*token")).status).toBe(404);
      expect(reparsed).toEqual(["default /dags/etl.json"]);
    });

    test("a viewer may not ask for a parse", async () => {
      const h = await makeHarness({ dagFiles: { reparse: async () => {} } });
      const token = (await h.json("GET", "/api/v2/dags/etl")).body.file_token;
      expect((await h.call("PUT", `/api/v2/parseDagFile/${token}`, { token: await h.token("viewer") })).status).toBe(403);
    });
  });
});
