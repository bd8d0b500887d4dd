/**
 * Teams isolation audit (issue 21), adversarial: team `default` holds data marked LEAK (values, hosts, log
 * lines, XComs, import errors, audit entries) and names with `secret` in them; team-b has its own DAG "etl"
 * (the same dag_id). Bob is Admin of team-b only. Every GET route of the API is called as Bob with path
 * parameters naming default's records (and `~`): no answer may carry default's content, nor the name of a
 * third team, "hidden-c", that Bob has no role in. Then the install-wide paths that used to leak: the
 * configuration (every team's DAG folder), the audit log of user and team management, and a deleted team's
 * audit log read by a new team of the same name. Run on SQLite and Postgres.
 */
import { expect, test } from "bun:test";
import { createApi } from "../../src/api";
import type { TeamInput } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { ETL, NOW, forEachApiStore, type Harness } from "../integration/api/harness";

const B = "team-b";
const HIDDEN = "hidden-c";
const team = (name: string): TeamInput => ({
  name,
  description: null,
  max_running_tasks: null,
  max_pool_slots: null,
  max_inline_requests: null,
  executor_policy: {},
});

/** Leaked content: none of these strings is ever sent in a request, so an answer holding one leaked it. */
const LEAK = /LEAK|hidden-c|hidden-d/;

/** Default's records (names with "secret", content with LEAK), team-b's own etl, the hidden team, and Bob. */
async function seed(h: Harness) {
  const admin = await h.token("admin");
  const asAdmin = (method: string, path: string, body?: unknown) => h.json(method, path, { token: admin, body });
  expect(
    (await asAdmin("POST", "/api/v2/dags/etl/dagRuns", { dag_run_id: "run_secret_a", logical_date: null, note: "NOTE-LEAK" })).status,
  ).toBe(200);
  expect((await asAdmin("POST", "/api/v2/variables", { key: "var_secret_a", value: "VALUE-LEAK" })).status).toBe(201);
  expect(
    (await asAdmin("POST", "/api/v2/connections", { connection_id: "conn_secret_a", conn_type: "http", host: "HOST-LEAK" })).status,
  ).toBe(201);
  expect((await asAdmin("POST", "/api/v2/pools", { name: "pool_secret_a", slots: 3, description: "POOLDESC-LEAK" })).status).toBe(201);
  const ti = await h.store.getTaskInstance("default", "etl", "run_secret_a", "extract");
  if (!ti) throw new Error("the seeded run has no task instance extract");
  await h.store.setXCom(
    { team: "default", dag_id: "etl", run_id: "run_secret_a", task_id: "extract", key: "xk_secret_a" },
    "XCOM-LEAK",
    NOW,
  );
  await h.store.appendLogs(ti.id, 1, 0, [{ timestamp: NOW, stream: "stdout", line: "LOG-LEAK" }]);
  await h.store.replaceImportErrors("default", "/dags/broken_secret_a.py", ["IMPORT-LEAK"], NOW);
  const backfill = await asAdmin("POST", "/api/v2/backfills", {
    dag_id: "etl",
    from_date: "2026-01-01T00:00:00Z",
    to_date: "2026-01-02T00:00:00Z",
    dag_run_conf: { why: "CONF-LEAK" },
  });
  expect(backfill.status).toBe(200);
  const importError = (await h.store.listImportErrors("default")).items[0];
  const audit = (await h.store.listAuditLog("default")).items[0];
  const version = (await h.store.getDag("default", "etl"))?.version_id;

  await h.store.createTeam(team(B), NOW);
  await h.store.createTeam(team(HIDDEN), NOW);
  await h.store.upsertDag(B, { spec: parseDagSpec(ETL), fileloc: "/dags/team-b/etl.json", pausedOnCreate: false, now: NOW });
  await h.store.putUser({ username: "bob", password_hash: "x", role: "viewer" }, NOW, [{ team: B, role: "admin" }]);
  const bob = await h.tokens.issue({ username: "bob", role: "viewer" }, NOW);
  return { admin, bob, ids: { backfill: backfill.body.id, importError: importError?.id, audit: audit?.id, version } };
}

/** Values for each path parameter, naming default's records; `~` too where the route takes it. */
function paramValues(ids: Record<string, number | undefined>): Record<string, string[]> {
  return {
    dag_id: ["etl", "report", "~"],
    dag_run_id: ["run_secret_a", "~"],
    task_id: ["extract"],
    map_index: ["-1"],
    try_number: ["1"],
    task_try_number: ["1"],
    xcom_key: ["xk_secret_a"],
    backfill_id: [String(ids.backfill)],
    pool_name: ["pool_secret_a", "default_pool"],
    variable_key: ["var_secret_a"],
    connection_id: ["conn_secret_a"],
    import_error_id: [String(ids.importError)],
    event_log_id: [String(ids.audit)],
    version_number: [String(ids.version)],
    section: ["core"],
    option: ["team_dags_folders", "dags_folder"],
  };
}

/** Every concrete path of a route pattern, one per combination of parameter values. */
function expand(pattern: string, values: Record<string, string[]>): string[] {
  let paths = [""];
  for (const part of pattern.split("/").slice(1)) {
    const name = part.slice(1).replace(/\{.*$/, "");
    const choices = part.startsWith(":") ? (values[name] ?? [`unknown-${name}`]) : [part];
    paths = paths.flatMap((p) => choices.map((c) => `${p}/${c}`));
  }
  return paths;
}

forEachApiStore((makeHarness) => {
  test("every GET route, called by another team's Admin with the names of default's records, answers nothing of them", async () => {
    const config = {
      dags_folder: "/srv/dags",
      team_dags_folders: [
        { team: B, path: "/srv/team-b" },
        { team: HIDDEN, path: "/srv/hidden-c" },
      ],
    };
    const h = await makeHarness({ api: { config } });
    const { bob, ids } = await seed(h);
    const values = paramValues(ids);
    // Every GET route the API mounts but the event stream and /wait (streams that end only with the run).
    const app = createApi({
      store: h.store,
      tokens: h.tokens,
      version: "9.9.9",
      config,
      scheduler: { wake: () => {}, health: () => ({ status: "healthy", latest_scheduler_heartbeat: null }) },
      now: () => NOW,
    });
    const gets = [...new Set(app.routes.filter((r) => r.method === "GET").map((r) => r.path))].filter(
      (p) => p.startsWith("/api/v2/") && !p.endsWith("/leoflow/events") && !p.endsWith("/wait"),
    );
    expect(gets.length).toBeGreaterThan(40);
    const leaks: string[] = [];
    let answered = 0;
    for (const pattern of gets)
      for (const path of expand(pattern, values)) {
        const res = await app.request(path, { headers: { Authorization: `Bearer ${bob}` } });
        const text = await res.text();
        if (res.status === 200) answered++;
        if (LEAK.test(text)) leaks.push(`GET ${path} → ${res.status}: ${text.slice(0, 300)}`);
      }
    for (const [path, body] of [
      ["/api/v2/dags/~/dagRuns/list", {}],
      ["/api/v2/dags/~/dagRuns/~/taskInstances/list", {}],
    ] as const) {
      const text = await (await h.call("POST", path, { token: bob, body, check: false })).text();
      if (LEAK.test(text) || text.includes("secret")) leaks.push(`POST ${path}: ${text.slice(0, 300)}`);
    }
    expect(leaks).toEqual([]);
    // The sweep reached real answers (team-b's own etl, its pools…), not only 404s.
    expect(answered).toBeGreaterThan(20);
  });

  test("lists of another team's Admin name none of default's records", async () => {
    const h = await makeHarness();
    const { bob } = await seed(h);
    for (const path of [
      "/api/v2/dags/~/dagRuns",
      "/api/v2/dags/~/dagRuns/~/taskInstances",
      "/api/v2/dags/~/dagRuns/~/taskInstances/~/xcomEntries",
      "/api/v2/variables",
      "/api/v2/connections",
      "/api/v2/pools",
      "/api/v2/importErrors",
      "/api/v2/backfills?dag_id=etl",
      "/api/v2/eventLogs",
      "/api/v2/dagStats",
      "/api/v2/dags",
    ]) {
      const res = await h.call("GET", path, { token: bob, check: false });
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect({ path, text: (await res.text()).includes("secret") }).toEqual({ path, text: false });
    }
  });

  test("GET /config shows an Op of one team only its own team's DAG folder, not the other teams' names", async () => {
    const config = {
      dags_folder: "/srv/dags",
      team_dags_folders: [
        { team: B, path: "/srv/team-b" },
        { team: HIDDEN, path: "/srv/hidden-c" },
      ],
    };
    const h = await makeHarness({ api: { config } });
    const { bob, admin } = await seed(h);
    const option = async (token: string) =>
      (await h.json("GET", "/api/v2/config/section/core/option/team_dags_folders", { token })).body.sections[0].options[0].value;
    expect(JSON.parse(await option(bob))).toEqual([{ team: B, path: "/srv/team-b" }]);
    expect((await h.call("GET", "/api/v2/config", { token: bob }).then((r) => r.text())).includes(HIDDEN)).toBe(false);
    // The install admin configures the install: it sees every team's folder.
    expect(JSON.parse(await option(admin))).toEqual(config.team_dags_folders);
  });

  test("user and team management by the install admin is audited install-wide, not in the team its request named", async () => {
    const h = await makeHarness();
    const { admin, bob } = await seed(h);
    const inB = { "Leoflow-Team": B };
    expect((await h.json("POST", "/api/v2/leoflow/teams", { token: admin, headers: inB, body: { name: "hidden-d" } })).status).toBe(201);
    const grant = await h.json("PATCH", "/api/v2/leoflow/users/bob", {
      token: admin,
      headers: inB,
      body: { roles: [{ team: HIDDEN, role: "viewer" }] },
    });
    expect(grant.status).toBe(200);
    const bLog = await h.json("GET", "/api/v2/eventLogs", { token: bob, headers: inB });
    expect(bLog.status).toBe(200);
    expect(JSON.stringify(bLog.body)).not.toMatch(/hidden-c|hidden-d|leoflow_teams|leoflow_users/);
    // The record is kept where install admins read it: team default.
    const events = (await h.json("GET", "/api/v2/eventLogs", { token: admin })).body.event_logs.map((e: { event: string }) => e.event);
    expect(events).toEqual(expect.arrayContaining(["post_leoflow_teams", "patch_leoflow_users"]));
  });

  test("a team created with the name of a deleted one does not read the deleted team's audit log", async () => {
    const h = await makeHarness();
    const admin = await h.token("admin");
    await h.store.createTeam(team("analytics"), NOW);
    const inTeam = { "Leoflow-Team": "analytics" };
    const post = await h.json("POST", "/api/v2/variables", { token: admin, headers: inTeam, body: { key: "warehouse_host", value: "x" } });
    expect(post.status).toBe(201);
    expect((await h.json("GET", "/api/v2/eventLogs", { token: admin, headers: inTeam })).body.total_entries).toBe(1);
    expect((await h.call("DELETE", "/api/v2/leoflow/teams/analytics", { token: admin })).status).toBe(204);
    // Later, another group gets a team of the same name.
    expect((await h.json("POST", "/api/v2/leoflow/teams", { token: admin, body: { name: "analytics" } })).status).toBe(201);
    const log = await h.json("GET", "/api/v2/eventLogs", { token: admin, headers: inTeam });
    expect(log.body).toEqual({ event_logs: [], total_entries: 0 });
    // The old entry is kept as a record, under a name no team can act in.
    expect((await h.store.listAuditLog("deleted/analytics")).items.map((e) => e.event)).toEqual(["post_variable"]);
    expect((await h.json("GET", "/api/v2/eventLogs", { token: admin, headers: { "Leoflow-Team": "deleted/analytics" } })).status).toBe(404);
  });
});
