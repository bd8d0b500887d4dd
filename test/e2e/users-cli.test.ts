/**
 * `leoflow users …` against the compiled binary, on the store of a running server: the users it makes can
 * log in with their role's rights, the last Admin stays, deleted users' tokens stop working. Then the
 * signing secret is rotated across restarts without invalidating the tokens already out.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, startLeoflow, type Leoflow } from "./harness";

const OLD = "old-signing-secret-0123456789abcdef";
const NEW = "new-signing-secret-0123456789abcdef";

async function cli(args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn([BINARY, ...args], { stdin: stdin === undefined ? "ignore" : new Blob([stdin]), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

async function login(url: string, username: string, password: string): Promise<string | null> {
  const res = await fetch(`${url}/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  return res.status === 201 ? ((await res.json()) as { access_token: string }).access_token : null;
}

const get = async (url: string, path: string, token: string) =>
  (await fetch(url + path, { headers: { authorization: `Bearer ${token}` } })).status;

describe("leoflow users (compiled binary)", () => {
  let lf: Leoflow | null = null;
  afterAll(async () => void (await lf?.stop()));

  test("create, list, reset-password, delete on a running server's store; rotation keeps old tokens", async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-e2e-users-"));
    mkdirSync(join(dir, "dags"));
    lf = await startLeoflow({ dir, args: ["--jwt-secret", OLD, "--token-ttl", "3600"] });
    const db = ["--db", `sqlite:${join(lf.dir, "leoflow.db")}`];

    const made = await cli(["users", "create", "ada", "--role", "Op", "--password-stdin", ...db], "ada-password-1\n");
    expect(made).toMatchObject({ code: 0, out: "created user ada with role Op\n" });
    const ada = (await login(lf.url, "ada", "ada-password-1"))!;
    expect(ada).toBeString();
    expect(await get(lf.url, "/api/v2/variables", ada)).toBe(200);
    expect(await get(lf.url, "/api/v2/leoflow/users", ada)).toBe(403);

    const listed = await cli(["users", "list", "--json", ...db]);
    expect(JSON.parse(listed.out).map((u: { username: string; role: string }) => `${u.username}:${u.role}`)).toEqual([
      "ada:Op",
      "admin:Admin",
    ]);

    const reset = await cli(["users", "reset-password", "ada", ...db]);
    expect(reset.code).toBe(0);
    const generated = reset.out.match(/password: (\S+)/)![1]!;
    expect(await login(lf.url, "ada", "ada-password-1")).toBeNull();
    expect(await login(lf.url, "ada", generated)).toBeString();

    const lastAdmin = await cli(["users", "delete", "admin", ...db]);
    expect(lastAdmin.code).toBe(1);
    expect(lastAdmin.err).toContain("last Admin");

    expect((await cli(["users", "delete", "ada", ...db])).code).toBe(0);
    expect(await get(lf.url, "/api/v2/dags", ada)).toBe(401);

    const usage = await cli(["users", "create", "bob", ...db]);
    expect(usage.code).toBe(2);
    expect(usage.err).toContain("users create needs --role");
    const nodb = await cli(["users", "list", "--db", `sqlite:${join(lf.dir, "nope.db")}`]);
    expect(nodb.code).toBe(1);
    expect(nodb.err).toContain("there is no database at");

    // Rotate: the admin's token from before stays valid with the old secret listed as previous…
    const adminToken = (await login(lf.url, "admin", "e2e-admin-password"))!;
    await lf.stop();
    lf = await startLeoflow({ dir: lf.dir, args: ["--jwt-secret", NEW, "--jwt-previous-secrets", OLD] });
    expect(await get(lf.url, "/api/v2/dags", adminToken)).toBe(200);
    // …and is refused once the old secret is dropped.
    await lf.stop();
    lf = await startLeoflow({ dir: lf.dir, args: ["--jwt-secret", NEW] });
    expect(await get(lf.url, "/api/v2/dags", adminToken)).toBe(401);
  }, 90_000);
});
