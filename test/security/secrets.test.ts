/**
 * Secrets at rest, with the compiled binary: connection passwords and extras and secret variables reach the
 * database only as ciphertext (read back from the SQLite file and from the Postgres table), tasks still get
 * the plain values (an inline http task sends them to a local server), across a restart, through
 * `leoflow secrets rotate` (a webhook's deliveries after it still verify with the secret the receiver has),
 * and a server started with the wrong key says so instead of serving garbage.
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { BINARY, startLeoflow, waitFor, waitForRun, type Leoflow } from "../e2e/harness";
import { verifyWebhook } from "../../src/events";
import { writeDag } from "../faults/helpers";
import { describePg, freshSchemas, pgUrl, pgUrlWithSchema } from "../support/postgres";

const PASSWORD = "hunter2-e2e-conn-password";
const EXTRA_SECRET = "cs-e2e-extra-client-secret";
const VAR_SECRET = "pw-e2e-variable-secret";
const FLAGGED = "https://hooks.example/e2e-flagged-value";
const LEGACY = "legacy-plaintext-api-key";
const HOOK_SECRET = "whsec-e2e-webhook-signing-secret";
const PLAINTEXTS = [PASSWORD, EXTRA_SECRET, VAR_SECRET, FLAGGED, HOOK_SECRET];

/** What the tasks' http calls brought to this server: the Authorization header and the body. */
const seen: { auth: string | null; body: string }[] = [];
const echo = Bun.serve({
  port: 0,
  fetch: async (req) => {
    seen.push({ auth: req.headers.get("authorization"), body: await req.text() });
    return Response.json({ ok: true });
  },
});
/** Webhook deliveries, each checked against the secret the receiver was given when the webhook was made. */
const hooked: { run_id: string; verified: boolean }[] = [];
const hookReceiver = Bun.serve({
  port: 0,
  fetch: async (req) => {
    const body = await req.text();
    const headers = { timestamp: req.headers.get("x-leoflow-timestamp"), signature: req.headers.get("x-leoflow-signature") };
    hooked.push({ run_id: JSON.parse(body).run_id, verified: verifyWebhook(HOOK_SECRET, headers, body, Date.now() / 1000) });
    return new Response("ok");
  },
});
afterAll(() => {
  echo.stop(true);
  hookReceiver.stop(true);
});

const DAG = {
  dag_id: "use_secrets",
  tasks: [
    {
      task_id: "call",
      operator: "http",
      http: {
        method: "POST",
        url: "/hook",
        connection_id: "echo",
        json: { pw: "{{ var.db_password }}", hook: "{{ var.webhook }}", legacy: "{{ var.legacy_api_key }}" },
        expected_status: [200],
      },
    },
  ],
};

/** Every process environment here starts without a secrets key of its own. */
const baseEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("LEOFLOW_SECRETS")));

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn([BINARY, ...args], { env: { ...baseEnv(), ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out: out + err };
}

/** The rows as the database holds them, read from the file without Leoflow. */
function rawRows(dir: string) {
  const db = new Database(join(dir, "leoflow.db"), { readonly: true });
  try {
    return {
      variables: db.query("SELECT key, value FROM variables ORDER BY key").all() as { key: string; value: string }[],
      connections: db.query("SELECT connection_id, password, extra FROM connections ORDER BY connection_id").all() as {
        connection_id: string;
        password: string | null;
        extra: string | null;
      }[],
    };
  } finally {
    db.close();
  }
}

/** The database file and its WAL, as bytes: no page may hold a secret in the clear. */
const dbBytes = (dir: string) =>
  ["leoflow.db", "leoflow.db-wal"]
    .map((f) => join(dir, f))
    .filter(existsSync)
    .map((f) => readFileSync(f).toString("latin1"))
    .join("");

async function runAndSee(lf: Leoflow, runId: string) {
  seen.length = 0;
  expect((await lf.api("POST", "/api/v2/dags/use_secrets/dagRuns", { dag_run_id: runId, logical_date: null })).status).toBe(200);
  expect((await waitForRun(lf, "use_secrets", runId)).state).toBe("success");
  expect(seen).toEqual([
    { auth: `Basic ${btoa(`bot:${PASSWORD}`)}`, body: JSON.stringify({ pw: VAR_SECRET, hook: FLAGGED, legacy: LEGACY }) },
  ]);
}

describe("secrets at rest (Lite, compiled binary)", () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-sec-secrets-"));
  writeDag(dir, DAG);
  let lf: Leoflow | undefined;
  afterAll(async () => {
    if (lf && lf.proc.exitCode === null) await lf.stop();
  });
  const keyFile = join(dir, "data", "secrets-key");

  test("stored encrypted, read in the clear by tasks, across a restart, a rotation, and a wrong key", async () => {
    lf = await startLeoflow({ dir, env: baseEnv() as Record<string, string> });
    // Lite generated its key in the data dir, readable by the owner only.
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const k0 = readFileSync(keyFile, "utf8").trim();

    const conn = await lf.api("POST", "/api/v2/connections", {
      connection_id: "echo",
      conn_type: "http",
      host: `127.0.0.1:${echo.port}`,
      login: "bot",
      password: PASSWORD,
      extra: JSON.stringify({ region: "eu", client_secret: EXTRA_SECRET }),
    });
    expect(conn.status).toBe(201);
    expect(conn.body).toMatchObject({
      password: "***",
      extra: '{"region":"eu","client_secret":"***"}',
      is_encrypted: true,
      is_extra_encrypted: true,
    });
    const secretVar = await lf.api("POST", "/api/v2/variables", { key: "db_password", value: VAR_SECRET });
    expect(secretVar.body).toEqual({ key: "db_password", value: "***", description: null, is_encrypted: true });
    const flagged = await lf.api("POST", "/api/v2/variables", { key: "webhook", value: FLAGGED, is_encrypted: true });
    expect(flagged.body).toEqual({ key: "webhook", value: "***", description: null, is_encrypted: true });
    expect((await lf.api("POST", "/api/v2/variables", { key: "region", value: "eu" })).body.is_encrypted).toBe(false);
    const hook = await lf.api("POST", "/api/v2/leoflow/webhooks", {
      url: `http://127.0.0.1:${hookReceiver.port}/hook`,
      event_types: ["dag_run.finished"],
      secret: HOOK_SECRET,
    });
    expect(hook.status).toBe(201);

    // The database holds envelopes only: not in the rows, not anywhere in the file or its WAL.
    const rows = rawRows(dir);
    const sealed = /^lf1:[0-9a-f]{8}:[A-Za-z0-9+/=]+$/;
    expect(rows.connections[0]!.password).toMatch(sealed);
    expect(rows.connections[0]!.extra).toMatch(sealed);
    expect(rows.variables.map((v) => [v.key, sealed.test(v.value)])).toEqual([
      ["db_password", true],
      ["region", false],
      ["webhook", true],
    ]);
    const bytes = dbBytes(dir);
    for (const p of PLAINTEXTS) expect(bytes).not.toContain(p);

    // A row from before encryption existed (plain text) is still read, and says so.
    expect(await lf.stop()).toBe(0);
    const db = new Database(join(dir, "leoflow.db"));
    db.query("INSERT INTO variables (team, key, value, description, updated_at) VALUES ('default', 'legacy_api_key', ?, NULL, 0)").run(
      LEGACY,
    );
    db.close();

    // Restart: same data-dir key, everything reads back; tasks get the plain values.
    lf = await startLeoflow({ dir, env: baseEnv() as Record<string, string> });
    expect((await lf.api("GET", "/api/v2/variables/legacy_api_key")).body).toEqual({
      key: "legacy_api_key",
      value: "***",
      description: null,
      is_encrypted: false,
    });
    expect((await lf.api("GET", "/api/v2/connections/echo")).body.is_encrypted).toBe(true);
    await runAndSee(lf, "after-restart");
    expect(await lf.stop()).toBe(0);

    // Rotate Lite's data-dir key (no flags): a new key is generated and replaces the file once committed;
    // the plain-text legacy row is sealed on the way.
    const lite = await cli(["secrets", "rotate", "--db", `sqlite:${join(dir, "leoflow.db")}`, "--data-dir", join(dir, "data")]);
    expect(lite.out).toMatch(
      /^re-encrypted 5 row\(s\) under key id [0-9a-f]{8}: 3 variable\(s\), 1 connection\(s\), 1 webhook secret\(s\) \(1 value\(s\) were still plain text; 0 already under the new key, skipped\)\nwrote the new key to /,
    );
    expect(lite.code).toBe(0);
    const k1 = readFileSync(keyFile, "utf8").trim();
    expect(k1).not.toBe(k0);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(rawRows(dir).variables.find((v) => v.key === "legacy_api_key")!.value).toMatch(sealed);

    // Explicit keys: K1 → K2, then the same again changes nothing; a wrong old key changes nothing either.
    const k2 = "f".repeat(64);
    const db2 = `sqlite:${join(dir, "leoflow.db")}`;
    const rotated = await cli(["secrets", "rotate", "--db", db2, "--old-key", k1, "--new-key", k2]);
    expect(rotated).toEqual({ code: 0, out: expect.stringContaining("re-encrypted 5 row(s) under key id") });
    const again = await cli(["secrets", "rotate", "--db", db2], { LEOFLOW_SECRETS_KEY: k1, LEOFLOW_SECRETS_NEW_KEY: k2 });
    expect(again.out).toContain("re-encrypted 0 row(s)");
    expect(again.out).toContain("6 already under the new key, skipped");
    const before = rawRows(dir);
    const wrong = await cli(["secrets", "rotate", "--db", db2, "--old-key", "a".repeat(64), "--new-key", "b".repeat(64)]);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toContain("which is neither the old key");
    expect(wrong.out).toContain("nothing was changed");
    expect(rawRows(dir)).toEqual(before);
    const badKey = await cli(["secrets", "rotate", "--db", db2, "--old-key", "not a key!", "--new-key", k2]);
    expect(badKey).toEqual({
      code: 1,
      out: expect.stringContaining("the old key is neither hex nor base64 (10 characters); it must be 32 random bytes"),
    });
    expect(rawRows(dir)).toEqual(before);

    // The new key reads everything; tasks still get the plain values.
    lf = await startLeoflow({ dir, args: [`--secrets-key=${k2}`], env: baseEnv() as Record<string, string> });
    await runAndSee(lf, "after-rotate");
    // Two rotations later the webhook still signs with the secret its receiver has.
    await waitFor(
      () => hooked.some((h) => h.run_id === "after-rotate"),
      10_000,
      () => `deliveries so far: ${JSON.stringify(hooked)}`,
    );
    expect(hooked.filter((h) => h.run_id === "after-rotate")).toEqual([{ run_id: "after-rotate", verified: true }]);
    expect(await lf.stop()).toBe(0);

    // The old key (the data-dir file still holds K1) fails clearly: a logged warning at start, a 500 whose
    // detail names the row and the fix, the server still serving everything else.
    lf = await startLeoflow({ dir, env: baseEnv() as Record<string, string> });
    const read = await lf.api("GET", "/api/v2/connections/echo");
    expect(read.status).toBe(500);
    expect(read.body.detail).toStartWith(
      "cannot decrypt connection echo (password): the secrets key differs from the one it was written with (written under key id",
    );
    expect(read.body.detail).toContain("leoflow secrets rotate");
    expect((await lf.api("GET", "/api/v2/variables/db_password")).body.detail).toStartWith(
      "cannot decrypt variable db_password: the secrets key differs",
    );
    expect((await lf.api("GET", "/api/v2/variables/region")).body.value).toBe("eu");
    expect((await lf.api("GET", "/api/v2/monitor/health")).status).toBe(200);
    expect(lf.output()).toContain("stored secret(s) were encrypted under key id");
    const failed = await lf.api("POST", "/api/v2/dags/use_secrets/dagRuns", { dag_run_id: "wrong-key", logical_date: null });
    expect(failed.status).toBe(200);
    expect((await waitForRun(lf, "use_secrets", "wrong-key")).state).toBe("failed");
    const ti = await lf.api("GET", "/api/v2/dags/use_secrets/dagRuns/wrong-key/taskInstances/call/logs/1");
    expect(JSON.stringify(ti.body)).toContain("the secrets key differs");
    expect(await lf.stop()).toBe(0);
  }, 120_000);
});

describe("start-up refuses a missing or malformed key", () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-sec-key-"));

  test("Pro without --secrets-key refuses to start, saying what to pass", async () => {
    const r = await cli(
      [
        "serve",
        "--mode=pro",
        "--db=postgres://leo@127.0.0.1:1/none",
        "--executor=subprocess",
        "--jwt-secret=0123456789abcdef-secret",
        "--port=0",
        "--data-dir",
        dir,
      ],
      { LEOFLOW_ADMIN_PASSWORD: "x-admin-password" },
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain("--mode=pro needs --secrets-key (or LEOFLOW_SECRETS_KEY) shared by every replica");
    expect(r.out).toContain("openssl rand -base64 32");
  });

  test("a key that is not 32 bytes of hex or base64 is refused, without echoing it", async () => {
    const bad = Buffer.alloc(16, 5).toString("base64");
    const r = await cli(["serve", "--port=0", "--data-dir", dir, "--db", `sqlite:${join(dir, "x.db")}`], { LEOFLOW_SECRETS_KEY: bad });
    expect(r.code).toBe(2);
    expect(r.out).toContain("LEOFLOW_SECRETS_KEY: the key decodes to 16 bytes; it must be 32 random bytes as 64 hex digits or base64");
    expect(r.out).not.toContain(bad);
  });
});

describe("leoflow secrets rotate: usage", () => {
  test("a missing new key or database is refused with what to pass; `leoflow help` lists the command", async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-sec-rotate-"));
    const noDb = await cli(["secrets", "rotate", "--db", `sqlite:${join(dir, "x.db")}`, "--old-key", "a".repeat(64)]);
    expect(noDb.code).toBe(1);
    expect(noDb.out).toContain(`there is no database at ${join(dir, "x.db")}`);
    expect(existsSync(join(dir, "x.db"))).toBe(false);
    expect((await cli(["db", "migrate", "--db", `sqlite:${join(dir, "leoflow.db")}`])).code).toBe(0);
    const usage = await cli(["secrets", "rotate", "--db", `sqlite:${join(dir, "leoflow.db")}`, "--old-key", "a".repeat(64)]);
    expect(usage).toEqual({
      code: 2,
      out: expect.stringContaining("secrets rotate needs the new key: --new-key or LEOFLOW_SECRETS_NEW_KEY"),
    });
    expect((await cli(["help"])).out).toContain("leoflow secrets rotate [--db URL] --old-key K1 --new-key K2");
  }, 30_000);
});

describePg("secrets at rest on Postgres (compiled binary, Lite on Postgres)", () => {
  const schema = freshSchemas().next();
  const url = pgUrlWithSchema(schema);
  const key = "0123456789abcdef".repeat(4);

  test("the table holds only ciphertext, and rotation re-encrypts it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-sec-secrets-pg-"));
    writeDag(dir, DAG);
    const lf = await startLeoflow({ dir, args: [`--db=${url}`, `--secrets-key=${key}`], env: baseEnv() as Record<string, string> });
    try {
      await lf.api("POST", "/api/v2/connections", {
        connection_id: "pg",
        conn_type: "postgres",
        host: "db",
        login: "u",
        password: PASSWORD,
        extra: JSON.stringify({ client_secret: EXTRA_SECRET }),
      });
      await lf.api("POST", "/api/v2/variables", { key: "db_password", value: VAR_SECRET });
      expect((await lf.api("GET", "/api/v2/connections/pg")).body.is_encrypted).toBe(true);
    } finally {
      await lf.stop();
    }
    const sql = postgres(pgUrl(), { max: 1, onnotice: () => {} });
    try {
      const table = async () =>
        JSON.stringify([
          await sql.unsafe(`SELECT connection_id, password, extra FROM "${schema}".connections`),
          await sql.unsafe(`SELECT key, value FROM "${schema}".variables`),
        ]);
      const stored = await table();
      for (const p of [PASSWORD, EXTRA_SECRET, VAR_SECRET]) expect(stored).not.toContain(p);
      expect(stored).toContain("lf1:");
      const r = await cli(["secrets", "rotate", "--db", url, "--old-key", key, "--new-key", "e".repeat(64)]);
      expect(r.out).toContain("re-encrypted 2 row(s)");
      expect(r.code).toBe(0);
      expect(await table()).not.toEqual(stored);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }, 60_000);
});
