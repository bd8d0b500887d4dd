/**
 * `leoflow teams …` and `leoflow users grant|revoke` against the compiled binary, on the store of a running
 * server: a team made from the command line is one users can be given roles in, the server applies each
 * grant and revoke on the next request, and deleting the team takes its roles with it.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, startLeoflow, type Leoflow } from "./harness";

async function cli(args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn([BINARY, ...args], { stdin: stdin === undefined ? "ignore" : new Blob([stdin]), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

async function login(url: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${url}/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 201) throw new Error(`login as ${username} answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

const get = async (url: string, path: string, token: string, team?: string) => {
  const res = await fetch(url + path, { headers: { authorization: `Bearer ${token}`, ...(team ? { "Leoflow-Team": team } : {}) } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe("leoflow teams and users grant (compiled binary)", () => {
  let lf: Leoflow | null = null;
  afterAll(async () => void (await lf?.stop()));

  test("create, set, list, delete teams; grant and revoke roles the running server applies at once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-e2e-teams-"));
    mkdirSync(join(dir, "dags"));
    lf = await startLeoflow({ dir });
    const { url } = lf;
    const db = ["--db", `sqlite:${join(lf.dir, "leoflow.db")}`];

    const made = await cli([
      "teams",
      "create",
      "data-eng",
      "--max-running-tasks",
      "5",
      "--executor-policy",
      '{"images":["ghcr.io/de/*"]}',
      ...db,
    ]);
    expect(made.code).toBe(0);
    expect(made.out).toContain("created team data-eng (max running tasks 5, max pool slots unlimited");
    const badName = await cli(["teams", "create", "Data_Eng", ...db]);
    expect(badName.code).toBe(2);
    expect(badName.err).toContain('"Data_Eng" is not a valid team name');
    const taken = await cli(["teams", "create", "data-eng", ...db]);
    expect(taken).toMatchObject({ code: 1 });
    expect(taken.err).toContain('team "data-eng" already exists');
    const badPolicy = await cli(["teams", "set", "data-eng", "--executor-policy", '{"max_cpu":"lots"}', ...db]);
    expect(badPolicy.code).toBe(2);
    expect(badPolicy.err).toContain("max_cpu");
    expect((await cli(["teams", "set", "data-eng", "--max-running-tasks", "none", "--max-pool-slots", "10", ...db])).code).toBe(0);
    const listed = JSON.parse((await cli(["teams", "list", "--json", ...db])).out) as Record<string, unknown>[];
    expect(listed.map((t) => [t.name, t.max_running_tasks, t.max_pool_slots])).toEqual([
      ["data-eng", null, 10],
      ["default", null, null],
    ]);
    expect(listed[0]?.executor_policy).toEqual({ images: ["ghcr.io/de/*"] });

    // A user made for the team has a role there only.
    const ada = await cli(
      ["users", "create", "ada", "--role", "Viewer", "--team", "data-eng", "--password-stdin", ...db],
      "ada-password-1\n",
    );
    expect(ada).toMatchObject({ code: 0, out: "created user ada with role Viewer in team data-eng\n" });
    const token = await login(url, "ada", "ada-password-1");
    expect((await get(url, "/api/v2/pools/default_pool", token)).body).toMatchObject({ name: "default_pool", slots: 128 });
    expect((await get(url, "/api/v2/dags", token, "default")).body).toEqual({ detail: 'Team "default" not found' });
    expect((await get(url, "/api/v2/variables", token)).status).toBe(403);

    const granted = await cli(["users", "grant", "ada", "--team", "default", "--role", "Op", ...db]);
    expect(granted.out).toBe("gave ada the role Op in team default; ada now has Viewer in data-eng, Op in default\n");
    // Two teams, one of them `default`: requests without a header act there, as Op.
    expect((await get(url, "/api/v2/variables", token)).status).toBe(200);
    expect((await get(url, "/api/v2/variables", token, "data-eng")).status).toBe(403);
    expect((await cli(["users", "revoke", "ada", "--team", "default", ...db])).code).toBe(0);
    expect((await get(url, "/api/v2/variables", token)).status).toBe(403);

    const noTeam = await cli(["users", "grant", "ada", "--team", "nope", "--role", "Op", ...db]);
    expect(noTeam.code).toBe(1);
    expect(noTeam.err).toContain('team "nope" does not exist');
    const lastAdmin = await cli(["users", "revoke", "admin", "--team", "default", ...db]);
    expect(lastAdmin.code).toBe(1);
    expect(lastAdmin.err).toContain("last Admin");
    const noRole = await cli(["users", "grant", "ada", "--team", "data-eng", ...db]);
    expect(noRole.code).toBe(2);
    expect(noRole.err).toContain("users grant needs --role");

    // The install admin acts in data-eng by naming it.
    const admin = await login(url, "admin", "e2e-admin-password");
    expect((await get(url, "/api/v2/dags", admin, "data-eng")).status).toBe(200);

    const keepDefault = await cli(["teams", "delete", "default", ...db]);
    expect(keepDefault.code).toBe(1);
    expect(keepDefault.err).toContain("cannot be deleted");
    expect((await cli(["teams", "delete", "data-eng", ...db])).code).toBe(0);
    const orphan = await get(url, "/api/v2/dags", token);
    expect(orphan.status).toBe(403);
    expect(orphan.body.detail).toContain('user "ada" has no role in any team');
    const users = JSON.parse((await cli(["users", "list", "--json", ...db])).out) as { username: string; roles: unknown[] }[];
    expect(users.find((u) => u.username === "ada")?.roles).toEqual([]);
  }, 90_000);
});
