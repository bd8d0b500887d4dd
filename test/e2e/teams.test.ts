/**
 * Two teams on one install, in the compiled binary (issue 21's proof): `serve --dags-folder-layout=teams` over
 * a folder with a DAG of team `default` at the top and subfolders alpha/ and beta/, each holding a DAG with the
 * same id `etl` (bash tasks). Alice is Op in alpha, Bob Op in beta; each triggers `etl` in their team through
 * the API. Alice sees only alpha's DAGs and runs, and gets the 404 of something missing for beta's run,
 * variable, connection and task log; her event stream carries none of beta's events. The install admin acts
 * in beta by naming it. Beta's quota of one running task holds its second task `scheduled` with a note naming
 * the quota while alpha's two tasks run; lifting the quota through the API releases it at once (the server
 * sweeps only every 30 s here, so nothing but the teams API's wake can have started it).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, startLeoflow, waitFor, type Leoflow } from "./harness";

const TEAM = "Leoflow-Team";
const twoTasks = (echo: string, seconds: number) => ({
  dag_id: "etl",
  schedule: null,
  tasks: ["first", "second"].map((task_id) => ({ task_id, operator: "bash", bash_command: `echo "${echo} $0"; sleep ${seconds}` })),
});

async function cli(args: string[], env: Record<string, string> = {}, stdin?: string) {
  const proc = Bun.spawn([BINARY, ...args], {
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

/** An API caller as `username`, optionally in a team (the Leoflow-Team header). */
async function loginAs(url: string, username: string, password: string) {
  const res = await fetch(`${url}/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 201) throw new Error(`login as ${username} answered ${res.status}: ${await res.text()}`);
  const token = ((await res.json()) as { access_token: string }).access_token;
  const headers = (team?: string) => ({
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
    ...(team ? { [TEAM]: team } : {}),
  });
  const call = async (method: string, path: string, opts: { team?: string; body?: unknown } = {}) => {
    const r = await fetch(url + path, {
      method,
      headers: headers(opts.team),
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    return { status: r.status, body: (await r.json()) as any };
  };
  return { call, headers };
}

/** Reads the event stream from its first event until `enough` holds for what was read, or `ms` pass. */
async function readEvents(url: string, headers: Record<string, string>, enough: (events: any[]) => boolean, ms: number) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  const events: any[] = [];
  try {
    const res = await fetch(`${url}/api/v2/leoflow/events?last_event_id=0`, { headers, signal: abort.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    while (!enough(events)) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      const messages = buffered.split("\n\n");
      buffered = messages.pop() ?? "";
      for (const m of messages) {
        const data = m.split("\n").find((l) => l.startsWith("data: "));
        if (data) events.push(JSON.parse(data.slice(6)));
      }
    }
  } catch (e) {
    if (!abort.signal.aborted) throw e;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return events;
}

describe("two teams on one install (compiled binary)", () => {
  let lf: Leoflow | null = null;
  afterAll(async () => void (await lf?.stop()));

  test("each team sees only its own; an admin acts in any; a quota holds one team's work, not the other's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-e2e-two-teams-"));
    const dags = join(dir, "dags");
    for (const team of ["alpha", "beta"]) mkdirSync(join(dags, team), { recursive: true });
    writeFileSync(
      join(dags, "hello.json"),
      JSON.stringify({ dag_id: "hello", tasks: [{ task_id: "hi", operator: "bash", bash_command: "echo hi" }] }),
    );
    writeFileSync(join(dags, "alpha", "etl.json"), JSON.stringify(twoTasks("alpha says hi", 1)));
    writeFileSync(join(dags, "beta", "etl.json"), JSON.stringify(twoTasks("beta says hi", 4)));

    // Beta's quota is set from the command line before the server starts; the server reads it on its first tick.
    const db = ["--db", `sqlite:${join(dir, "leoflow.db")}`];
    expect((await cli(["db", "migrate", ...db])).code).toBe(0);
    for (const team of ["alpha", "beta"]) expect((await cli(["teams", "create", team, ...db])).code).toBe(0);
    const quota = await cli(["teams", "set", "beta", "--max-running-tasks", "1", ...db]);
    expect(quota).toMatchObject({ code: 0 });

    lf = await startLeoflow({ dir, args: ["--dags-folder-layout=teams", "--sweep-interval", "30"] });
    const { url } = lf;
    for (const [user, team] of [
      ["alice", "alpha"],
      ["bob", "beta"],
    ] as const) {
      const made = await cli(
        ["users", "create", user, "--role", "Op", "--team", team, "--password-stdin", ...db],
        {},
        `${user}-password\n`,
      );
      expect(made).toMatchObject({ code: 0, out: `created user ${user} with role Op in team ${team}\n` });
    }
    const alice = await loginAs(url, "alice", "alice-password");
    const bob = await loginAs(url, "bob", "bob-password");
    const admin = await loginAs(url, "admin", "e2e-admin-password");

    // Both teams have a DAG `etl`, each from its own folder; each user acts in their own team without a header.
    expect((await alice.call("GET", "/api/v2/leoflow/me")).body).toMatchObject({ username: "alice", team: "alpha", role: "Op" });
    const aliceDags = (await alice.call("GET", "/api/v2/dags")).body.dags;
    expect(aliceDags.map((d: any) => [d.dag_id, d.relative_fileloc])).toEqual([["etl", "etl.json"]]);
    expect(aliceDags[0].fileloc).toContain(join("dags", "alpha"));
    expect((await bob.call("GET", "/api/v2/dags/etl")).body.fileloc).toContain(join("dags", "beta"));

    expect((await bob.call("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: "beta-1", logical_date: null } })).status).toBe(200);
    expect((await alice.call("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: "alpha-1", logical_date: null } })).status).toBe(
      200,
    );

    // Alpha's two tasks run side by side while beta's second waits on beta's quota, with a note naming it.
    const tis = async (who: typeof alice, run: string) =>
      (await who.call("GET", `/api/v2/dags/etl/dagRuns/${run}/taskInstances`)).body.task_instances as any[];
    let seen: { alpha: any[]; beta: any[] } = { alpha: [], beta: [] };
    await waitFor(
      async () => {
        seen = { alpha: await tis(alice, "alpha-1"), beta: await tis(bob, "beta-1") };
        const alphaBoth = seen.alpha.length === 2 && seen.alpha.every((t) => ["running", "success"].includes(t.state));
        const betaHeld =
          seen.beta.some((t) => t.state === "running") &&
          seen.beta.some((t) => t.state === "scheduled" && /team beta reached its quota max_running_tasks=1/.test(t.note ?? ""));
        return alphaBoth && betaHeld;
      },
      20_000,
      () =>
        `alpha's tasks did not both start while beta's second waited on its quota: ${JSON.stringify(seen)}\n${lf?.output().slice(-3000)}`,
    );

    // The install admin acts in beta by naming it: lifts the quota, and the held task starts at once.
    expect((await admin.call("PATCH", "/api/v2/leoflow/teams/beta", { body: { max_running_tasks: null } })).status).toBe(200);
    const runOf = async (who: typeof alice, run: string) => {
      const r = (await who.call("GET", `/api/v2/dags/etl/dagRuns/${run}`)).body;
      return ["success", "failed"].includes(r.state) ? r : null;
    };
    expect(
      (
        await waitFor(
          () => runOf(alice, "alpha-1"),
          20_000,
          () => lf?.output().slice(-3000) ?? "",
        )
      ).state,
    ).toBe("success");
    expect(
      (
        await waitFor(
          () => runOf(bob, "beta-1"),
          20_000,
          () => lf?.output().slice(-3000) ?? "",
        )
      ).state,
    ).toBe("success");
    const [first, second] = (await tis(bob, "beta-1")).sort((a, b) => (a.start_date < b.start_date ? -1 : 1));
    // The held task started while the other still ran: the lift applied at once, not after the first ended.
    expect(second.start_date < first.end_date).toBe(true);

    // Alice: only alpha's runs; beta's run, variable, connection and log are the 404s of missing ones.
    const aliceRuns = (await alice.call("GET", "/api/v2/dags/~/dagRuns")).body.dag_runs;
    expect(aliceRuns.map((r: any) => r.dag_run_id)).toEqual(["alpha-1"]);
    const adminInBeta = (await admin.call("GET", "/api/v2/dags/~/dagRuns", { team: "beta" })).body.dag_runs;
    expect(adminInBeta.map((r: any) => r.dag_run_id)).toEqual(["beta-1"]);
    expect((await admin.call("POST", "/api/v2/variables", { team: "beta", body: { key: "bucket", value: "b" } })).status).toBe(201);
    const conn = { connection_id: "warehouse", conn_type: "postgres", host: "beta-db" };
    expect((await admin.call("POST", "/api/v2/connections", { team: "beta", body: conn })).status).toBe(201);
    expect((await bob.call("GET", "/api/v2/variables/bucket")).body.value).toBe("b");
    const missingInDefault = {
      run: await admin.call("GET", "/api/v2/dags/etl/dagRuns/beta-1"),
      variable: await admin.call("GET", "/api/v2/variables/bucket"),
      connection: await admin.call("GET", "/api/v2/connections/warehouse"),
    };
    expect(missingInDefault.variable.status).toBe(404);
    const byAlice = {
      run: await alice.call("GET", "/api/v2/dags/etl/dagRuns/beta-1"),
      variable: await alice.call("GET", "/api/v2/variables/bucket"),
      connection: await alice.call("GET", "/api/v2/connections/warehouse"),
    };
    expect(byAlice).toEqual(missingInDefault);
    expect(byAlice.run.status).toBe(404);
    const betaLog = await alice.call("GET", "/api/v2/dags/etl/dagRuns/beta-1/taskInstances/first/logs/1");
    expect(betaLog.status).toBe(404);
    expect(JSON.stringify(betaLog.body)).not.toContain("beta says hi");
    const ownLog = await alice.call("GET", "/api/v2/dags/etl/dagRuns/alpha-1/taskInstances/first/logs/1");
    expect(JSON.stringify(ownLog.body)).toContain("alpha says hi");
    // Naming beta does not help her: the same 404 as a team that does not exist.
    expect(await alice.call("GET", "/api/v2/variables/bucket", { team: "beta" })).toEqual({
      status: 404,
      body: { detail: 'Team "beta" not found' },
    });
    expect((await alice.call("GET", "/api/v2/dags", { team: "nope" })).body).toEqual({ detail: 'Team "nope" not found' });

    // Her event stream, replayed from the first event, carries alpha's run to its end and nothing of beta's.
    const alphaFinished = (events: any[]) => events.some((e) => e.type === "dag_run.finished" && e.run_id === "alpha-1");
    const events = await readEvents(url, alice.headers(), alphaFinished, 5_000);
    expect(alphaFinished(events)).toBe(true);
    expect(events.filter((e) => e.team !== "alpha" || e.run_id === "beta-1")).toEqual([]);
    const bobEvents = await readEvents(url, bob.headers(), (es) => es.some((e) => e.type === "dag_run.finished"), 5_000);
    expect(new Set(bobEvents.map((e) => `${e.team} ${e.run_id}`))).toEqual(new Set(["beta beta-1"]));

    // The command-line client: `login --team` keeps the team, --team overrides it, a refused team prints the 404.
    const home = { XDG_CONFIG_HOME: join(dir, "config"), LEOFLOW_TEAM: "" };
    const login = await cli(["login", "--server", url, "-u", "alice", "--team", "alpha", "--password-stdin"], home, "alice-password\n");
    expect(login).toMatchObject({ code: 0 });
    expect(login.out).toContain("as alice in team alpha (Op)");
    const runs = await cli(["runs", "list", "etl"], home);
    expect(runs.code).toBe(0);
    expect(runs.out).toContain("alpha-1");
    expect(runs.out).not.toContain("beta-1");
    expect(await cli(["runs", "list", "etl", "--team", "beta"], home)).toMatchObject({
      code: 1,
      err: 'leoflow runs list: Team "beta" not found\n',
    });
    const adminHome = { XDG_CONFIG_HOME: join(dir, "admin-config"), LEOFLOW_TEAM: "beta" };
    expect((await cli(["login", "--server", url, "--password-stdin"], adminHome, "e2e-admin-password\n")).code).toBe(0);
    const adminVars = await cli(["variables", "list"], adminHome);
    expect(adminVars).toMatchObject({ code: 0 });
    expect(adminVars.out).toContain("bucket");
  }, 40_000);
});
