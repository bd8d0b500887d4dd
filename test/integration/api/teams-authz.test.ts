/**
 * Teams × roles × routes (issue 21): a user holds a role per team and acts in one team per request (the
 * Leoflow-Team header, else its own team). Mia is Viewer in team a and Op in team b, and has no role in c:
 * she reads a, writes b, and gets for team c's DAG exactly the 404 of a DAG that does not exist (never 403).
 * An install admin (Admin in `default`) acts in any team by naming it. The same DAG id lives in a and b.
 * Run on SQLite and Postgres.
 */
import { describe, expect, test } from "bun:test";
import { createApi } from "../../../src/api";
import { EventHub, withStoreEvents } from "../../../src/events";
import type { TeamInput } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { NOW, forEachApiStore, type Harness } from "./harness";

const TEAM = "Leoflow-Team";
const team = (name: string): TeamInput => ({
  name,
  description: null,
  max_running_tasks: null,
  max_pool_slots: null,
  max_inline_requests: null,
  executor_policy: {},
});
const dagSpec = (dagId: string) =>
  parseDagSpec({ dag_id: dagId, tasks: [{ task_id: "extract", operator: "bash", bash_command: "echo hi" }] });

/** Teams a, b, c with their DAGs ("etl" in both a and b), and Mia: Viewer in a, Op in b, nothing in c. */
async function teams(h: Harness) {
  for (const name of ["a", "b", "c"]) await h.store.createTeam(team(name), NOW);
  const dags: [string, string][] = [
    ["a", "etl"],
    ["a", "a_report"],
    ["b", "etl"],
    ["b", "b_load"],
    ["c", "c_secret"],
  ];
  for (const [t, id] of dags)
    await h.store.upsertDag(t, { spec: dagSpec(id), fileloc: `/dags/${t}/${id}.json`, pausedOnCreate: false, now: NOW });
  await h.store.putUser({ username: "mia", password_hash: "x", role: "viewer" }, NOW, [
    { team: "a", role: "viewer" },
    { team: "b", role: "op" },
  ]);
  const mia = await h.tokens.issue({ username: "mia", role: "viewer" }, NOW);
  const admin = await h.token("admin");
  /** A call as `token` in team `t` (no header when t is undefined). */
  const as = (token: string, t?: string) => (method: string, path: string, body?: unknown) =>
    h.json(method, path, { token, body, headers: t ? { [TEAM]: t } : {} });
  return { mia, admin, as };
}

const dagIds = (body: { dags: { dag_id: string }[] }) => body.dags.map((d) => d.dag_id);

forEachApiStore((makeHarness) => {
  describe("teams × roles × routes", () => {
    test("Mia reads team a as Viewer: its DAGs only; writes and secrets are refused by role (403)", async () => {
      const h = await makeHarness();
      const { mia, as } = await teams(h);
      const inA = as(mia, "a");
      expect(dagIds((await inA("GET", "/api/v2/dags")).body)).toEqual(["a_report", "etl"]);
      expect((await inA("GET", "/api/v2/dags/etl")).body).toMatchObject({ dag_id: "etl", fileloc: "/dags/a/etl.json" });
      const trigger = await inA("POST", "/api/v2/dags/etl/dagRuns", { logical_date: null });
      expect(trigger.status).toBe(403);
      expect(trigger.body.detail).toContain('user "mia" has role Viewer');
      expect((await inA("GET", "/api/v2/variables")).status).toBe(403);
      expect((await inA("GET", "/api/v2/connections")).status).toBe(403);
      // Without a header Mia (no role in `default`) acts in her first team by name: a.
      expect(dagIds((await as(mia)("GET", "/api/v2/dags")).body)).toEqual(["a_report", "etl"]);
      // The header wins over ?team=.
      expect(dagIds((await as(mia, "a")("GET", "/api/v2/dags?team=b")).body)).toEqual(["a_report", "etl"]);
      expect(dagIds((await as(mia)("GET", "/api/v2/dags?team=b")).body)).toEqual(["b_load", "etl"]);
    });

    test("Mia writes team b as Op: trigger, variables, connections land in b and never show in a", async () => {
      const h = await makeHarness();
      const { mia, admin, as } = await teams(h);
      const inB = as(mia, "b");
      const run = await inB("POST", "/api/v2/dags/etl/dagRuns", { dag_run_id: "manual__b1", logical_date: null });
      expect(run.status).toBe(200);
      expect((await inB("GET", "/api/v2/dags/etl/dagRuns")).body.dag_runs.map((r: { dag_run_id: string }) => r.dag_run_id)).toEqual([
        "manual__b1",
      ]);
      // Team a's "etl" is another DAG: it has no runs, and b's run is not found through it.
      expect((await as(mia, "a")("GET", "/api/v2/dags/etl/dagRuns")).body.total_entries).toBe(0);
      expect((await as(mia, "a")("GET", "/api/v2/dags/etl/dagRuns/manual__b1")).status).toBe(404);

      expect((await inB("POST", "/api/v2/variables", { key: "bucket", value: "s3://b" })).status).toBe(201);
      expect((await inB("GET", "/api/v2/variables/bucket")).body.value).toBe("s3://b");
      expect((await inB("POST", "/api/v2/connections", { connection_id: "wh", conn_type: "http", host: "b.example" })).status).toBe(201);
      expect((await inB("GET", "/api/v2/connections/wh")).body.host).toBe("b.example");
      // The install admin in team a does not see b's variable or connection: not found, as if never made.
      const adminInA = as(admin, "a");
      expect((await adminInA("GET", "/api/v2/variables/bucket")).status).toBe(404);
      expect((await adminInA("GET", "/api/v2/connections/wh")).status).toBe(404);
      expect((await adminInA("GET", "/api/v2/variables")).body.total_entries).toBe(0);
      // …nor does `default`, where single-team installs live.
      expect((await as(admin)("GET", "/api/v2/variables/bucket")).status).toBe(404);
    });

    test("team c's DAG is a 404 worded exactly like a DAG that does not exist; naming team c is a 404 like naming no team at all", async () => {
      const h = await makeHarness();
      const { mia, as } = await teams(h);
      for (const t of ["a", "b"]) {
        const secret = await as(mia, t)("GET", "/api/v2/dags/c_secret");
        const missing = await as(mia, t)("GET", "/api/v2/dags/nope");
        expect(secret.status).toBe(404);
        expect(secret.body.detail).toBe(missing.body.detail.replace("nope", "c_secret"));
        // The DAG page's read of its tasks (structure) says the same, and gives nothing of team c's away.
        const shape = await as(mia, t)("GET", "/api/v2/leoflow/dags/c_secret/structure");
        expect(shape).toEqual({ status: 404, body: secret.body });
        // Triggering it answers what triggering a missing DAG answers (403 as Viewer in a, 404 as Op in b).
        const body = { logical_date: null };
        const trigSecret = await as(mia, t)("POST", "/api/v2/dags/c_secret/dagRuns", body);
        const trigMissing = await as(mia, t)("POST", "/api/v2/dags/nope/dagRuns", body);
        expect(trigSecret.status).toBe(t === "a" ? 403 : 404);
        expect(trigSecret).toEqual({ ...trigMissing, body: JSON.parse(JSON.stringify(trigMissing.body).replaceAll("nope", "c_secret")) });
      }
      const named = await as(mia, "c")("GET", "/api/v2/dags");
      const unknown = await as(mia, "zz")("GET", "/api/v2/dags");
      expect(named).toEqual({ status: 404, body: { detail: 'Team "c" not found' } });
      expect(unknown).toEqual({ status: 404, body: { detail: 'Team "zz" not found' } });
      expect((await as(mia, "c")("GET", "/api/v2/dags/c_secret")).status).toBe(404);
      expect((await as(mia, "c")("GET", "/api/v2/variables")).status).toBe(404);
    });

    test("task logs of another team's run are not found", async () => {
      const h = await makeHarness();
      const { mia, as } = await teams(h);
      await as(mia, "b")("POST", "/api/v2/dags/etl/dagRuns", { dag_run_id: "r1", logical_date: null });
      const path = "/api/v2/dags/etl/dagRuns/r1/taskInstances/extract/logs/1";
      const inA = await as(mia, "a")("GET", path);
      expect(inA.status).toBe(404);
      expect(inA.body.detail).toContain("r1");
      expect((await as(mia, "b")("GET", path)).status).not.toBe(404);
    });

    test("the install admin acts in any existing team by naming it, with Admin rights there", async () => {
      const h = await makeHarness();
      const { admin, as } = await teams(h);
      const inC = as(admin, "c");
      expect(dagIds((await inC("GET", "/api/v2/dags")).body)).toEqual(["c_secret"]);
      expect((await inC("POST", "/api/v2/dags/c_secret/dagRuns", { dag_run_id: "by_admin", logical_date: null })).status).toBe(200);
      expect((await inC("POST", "/api/v2/variables", { key: "k", value: "c" })).status).toBe(201);
      expect((await inC("GET", "/api/v2/pools/default_pool")).body).toMatchObject({ name: "default_pool", slots: 128 });
      // Without a header the admin stays in `default`.
      expect(dagIds((await as(admin)("GET", "/api/v2/dags")).body)).toEqual(["etl", "report"]);
      expect((await as(admin, "zz")("GET", "/api/v2/dags")).body).toEqual({ detail: 'Team "zz" not found' });
    });

    test("an Admin of a team other than `default` administers that team but not users or teams", async () => {
      const h = await makeHarness();
      const { as } = await teams(h);
      await h.store.putUser({ username: "ann", password_hash: "x", role: "viewer" }, NOW, [{ team: "a", role: "admin" }]);
      const ann = await h.tokens.issue({ username: "ann", role: "viewer" }, NOW);
      expect((await as(ann)("GET", "/api/v2/variables")).status).toBe(200);
      expect((await as(ann)("GET", "/api/v2/eventLogs")).status).toBe(200);
      for (const path of ["/api/v2/leoflow/users", "/api/v2/leoflow/teams"]) {
        const r = await as(ann)("GET", path);
        expect(r.status).toBe(403);
        expect(r.body.detail).toContain('only an Admin of team "default" may do');
      }
      // And she cannot reach team c by naming it.
      expect((await as(ann, "c")("GET", "/api/v2/dags")).status).toBe(404);
    });

    test("the event stream carries only the events of the team the request acts in", async () => {
      const h = await makeHarness();
      const { mia, admin } = await teams(h);
      const hub = new EventHub(() => NOW);
      const app = createApi({
        store: withStoreEvents(h.store, hub),
        tokens: h.tokens,
        version: "9.9.9",
        events: hub,
        scheduler: { wake: () => {}, health: () => ({ status: "healthy", latest_scheduler_heartbeat: null }) },
        now: () => NOW,
      });
      const open = (token: string, t: string) =>
        app.request("/api/v2/leoflow/events", { headers: { Authorization: `Bearer ${token}`, [TEAM]: t } });
      const streamA = await open(mia, "a");
      const streamB = await open(mia, "b");
      expect(streamA.status).toBe(200);
      const trigger = (t: string, runId: string) =>
        app.request("/api/v2/dags/etl/dagRuns", {
          method: "POST",
          headers: { Authorization: `Bearer ${admin}`, [TEAM]: t, "Content-Type": "application/json" },
          body: JSON.stringify({ dag_run_id: runId, logical_date: null }),
        });
      // b's run first: if the stream of a carried it, it would be a's first event.
      expect((await trigger("b", "run_in_b")).status).toBe(200);
      expect((await trigger("a", "run_in_a")).status).toBe(200);
      const [firstOfA, firstOfB] = await Promise.all([firstEvent(streamA), firstEvent(streamB)]);
      expect(firstOfA).toMatchObject({ type: "dag_run.created", team: "a", dag_id: "etl", run_id: "run_in_a" });
      expect(firstOfB).toMatchObject({ type: "dag_run.created", team: "b", dag_id: "etl", run_id: "run_in_b" });
      expect((await open(mia, "c")).status).toBe(404);
    });
  });

  describe("teams API (install admins)", () => {
    test("create (with its default_pool), get, list, patch, delete; refusals say why", async () => {
      const h = await makeHarness();
      const T = "/api/v2/leoflow/teams";
      const made = await h.json("POST", T, {
        body: { name: "data-eng", max_running_tasks: 50, executor_policy: { images: ["ghcr.io/de/*"] } },
      });
      expect(made).toEqual({
        status: 201,
        body: {
          name: "data-eng",
          description: null,
          max_running_tasks: 50,
          max_pool_slots: null,
          max_inline_requests: null,
          executor_policy: { images: ["ghcr.io/de/*"] },
          created_at: NOW.toISOString(),
        },
      });
      expect((await h.json("GET", `${T}/data-eng`)).body).toEqual(made.body);
      expect((await h.json("GET", T)).body.teams.map((t: { name: string }) => t.name)).toEqual(["data-eng", "default"]);
      expect((await h.json("POST", T, { body: { name: "data-eng" } })).status).toBe(409);
      const bad = await h.json("POST", T, { body: { name: "Data_Eng" } });
      expect(bad.status).toBe(422);
      expect(JSON.stringify(bad.body)).toContain("is not a valid team name");
      const badPolicy = await h.json("PATCH", `${T}/data-eng`, { body: { executor_policy: { max_cpu: "lots" } } });
      expect(badPolicy.status).toBe(422);
      const patched = await h.json("PATCH", `${T}/data-eng`, { body: { max_running_tasks: null, max_pool_slots: 8 } });
      expect(patched.body).toMatchObject({ max_running_tasks: null, max_pool_slots: 8 });
      expect((await h.json("GET", "/api/v2/pools/default_pool", { headers: { [TEAM]: "data-eng" } })).body.slots).toBe(128);

      await h.store.upsertDag("data-eng", { spec: dagSpec("etl"), fileloc: "/dags/de/etl.json", pausedOnCreate: false, now: NOW });
      const owns = await h.json("DELETE", `${T}/data-eng`);
      expect(owns.status).toBe(409);
      expect(owns.body.detail).toContain('team "data-eng" still owns 1 DAG(s) (etl)');
      expect((await h.json("DELETE", `${T}/default`)).status).toBe(409);
      expect((await h.json("DELETE", `${T}/nope`)).body).toEqual({ detail: 'Team "nope" not found' });
      await h.store.createTeam(team("empty"), NOW);
      expect((await h.call("DELETE", `${T}/empty`)).status).toBe(204);
      expect((await h.json("GET", `${T}/empty`)).status).toBe(404);
    });

    test("users carry roles per team: POST with roles, PUT and DELETE one team's role; the new role applies at once", async () => {
      const h = await makeHarness();
      const U = "/api/v2/leoflow/users";
      await h.store.createTeam(team("a"), NOW);
      const made = await h.json("POST", U, {
        body: { username: "zoe", password: "correct horse", roles: [{ team: "a", role: "viewer" }] },
      });
      expect(made.status).toBe(201);
      expect(made.body).toMatchObject({ username: "zoe", role: null, roles: [{ team: "a", role: "Viewer" }] });
      const login = await h.json("POST", "/auth/token", { body: { username: "zoe", password: "correct horse" }, token: null });
      const zoe = login.body.access_token;
      expect((await h.json("GET", "/api/v2/variables", { token: zoe })).status).toBe(403);
      expect((await h.json("GET", "/api/v2/dags", { token: zoe, headers: { [TEAM]: "default" } })).body).toEqual({
        detail: 'Team "default" not found',
      });

      const put = await h.json("PUT", `${U}/zoe/roles/a`, { body: { role: "Op" } });
      expect(put.body.roles).toEqual([{ team: "a", role: "Op" }]);
      expect((await h.json("GET", "/api/v2/variables", { token: zoe })).status).toBe(200);
      const patched = await h.json("PATCH", `${U}/zoe`, {
        body: {
          roles: [
            { team: "default", role: "viewer" },
            { team: "a", role: null },
          ],
        },
      });
      expect(patched.body).toMatchObject({ role: "Viewer", roles: [{ team: "default", role: "Viewer" }] });
      expect((await h.call("DELETE", `${U}/zoe/roles/default`)).status).toBe(204);
      expect((await h.json("GET", `${U}/zoe`)).body.roles).toEqual([]);
      const none = await h.json("GET", "/api/v2/dags", { token: zoe });
      expect(none.status).toBe(403);
      expect(none.body.detail).toContain('user "zoe" has no role in any team');

      expect((await h.json("PUT", `${U}/zoe/roles/nope`, { body: { role: "Op" } })).status).toBe(404);
      const last = await h.json("DELETE", `${U}/admin/roles/default`);
      expect(last.status).toBe(409);
      expect(last.body.detail).toContain("last Admin");
    });

    test("with --auth=none everything is team default unless the header names another existing team", async () => {
      const h = await makeHarness({ auth: false });
      await h.store.createTeam(team("a"), NOW);
      await h.store.upsertDag("a", { spec: dagSpec("only_a"), fileloc: "/dags/a/only_a.json", pausedOnCreate: false, now: NOW });
      expect(dagIds((await h.json("GET", "/api/v2/dags", { token: null })).body)).toEqual(["etl", "report"]);
      expect(dagIds((await h.json("GET", "/api/v2/dags", { token: null, headers: { [TEAM]: "a" } })).body)).toEqual(["only_a"]);
      expect((await h.json("GET", "/api/v2/dags", { token: null, headers: { [TEAM]: "zz" } })).body).toEqual({
        detail: 'Team "zz" not found',
      });
    });
  });
});

/** The first event on an SSE response (skipping comments), parsed; fails the test after 5 s. */
async function firstEvent(res: Response): Promise<Record<string, unknown>> {
  const reader = res.body?.getReader();
  if (!reader) throw new Error("the event stream has no body");
  const dec = new TextDecoder();
  let text = "";
  const deadline = Date.now() + 5000;
  try {
    while (Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value);
      const data = /^data: (.*)$/m.exec(text);
      if (data?.[1]) return JSON.parse(data[1]) as Record<string, unknown>;
    }
  } finally {
    await reader.cancel();
  }
  throw new Error(`no event arrived on the stream; got: ${JSON.stringify(text)}`);
}
