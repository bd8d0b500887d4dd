/**
 * Upgrades: a store created by the previous schema version, with data in it, is migrated by the current
 * binary at start and serves that data; a store migrated by a newer release is refused, naming both
 * versions. The old store is made here by applying only the first N-1 migrations and writing rows with SQL
 * of that schema (the tables every version has), as an older release would have left them.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { runMigrations } from "../../src/store";
import { SQLITE_MIGRATIONS, sqliteMigrationTarget } from "../../src/store/sqlite/migrations";
import { POSTGRES_MIGRATIONS, postgresMigrationTarget } from "../../src/store/postgres/migrations";
import { VERSION } from "../../src/version";
import { BINARY } from "../e2e/harness";
import { loginAsAdmin, servingUrl, spawnCapturing, waitFor } from "../support/leoflow-process";
import { describePg, pgUrl, uniqueSchemaName } from "../support/postgres";

setDefaultTimeout(60_000);
const work = mkdtempSync(join(tmpdir(), "leoflow-upgrade-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const PASSWORD = "ada-password-from-an-older-release";
const SPEC = JSON.stringify({ dag_id: "legacy", schedule: null, tasks: [{ task_id: "hello", type: "bash", bash_command: "echo hi" }] });

/** Starts the binary on `db`; resolves with the server's URL and a stop function, or rejects with its output. */
async function serve(db: string, dir: string) {
  mkdirSync(join(dir, "dags"), { recursive: true });
  const server = spawnCapturing(
    [BINARY, "serve", "--db", db, "--data-dir", join(dir, "data"), "--dags-folder", join(dir, "dags"), "--port", "0"],
    { cwd: dir, env: { ...process.env, LEOFLOW_ADMIN_PASSWORD: "admin-password" } },
  );
  const url = await waitFor(
    () => servingUrl(server.output()) ?? (server.proc.exitCode !== null ? "exited" : undefined),
    30_000,
    () => `server did not start:\n${server.output()}`,
  );
  return { url, server, stop: async () => (server.proc.kill(), await server.proc.exited) };
}

/** What an upgraded store must still show: the old user logs in; the run, its task and the variable are there. */
async function expectOldDataServed(url: string) {
  const api = await loginAsAdmin(url, "admin-password");
  const run = await api("GET", "/api/v2/dags/legacy/dagRuns/manual__old");
  expect(run.status).toBe(200);
  expect(run.body).toMatchObject({ dag_run_id: "manual__old", state: "success", conf: { from: "old" } });
  const tasks = await api("GET", "/api/v2/dags/legacy/dagRuns/manual__old/taskInstances");
  expect(tasks.body.task_instances.map((t: any) => [t.task_id, t.state])).toEqual([["hello", "success"]]);
  expect((await api("GET", "/api/v2/variables/greeting")).body).toMatchObject({ key: "greeting", value: "hello from before" });
  const ada = await fetch(`${url}/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "ada", password: PASSWORD }),
  });
  expect(ada.status).toBe(201);
}

describe("SQLite", () => {
  // The schema the SQL below writes (before 0013 added teams): later migrations are all applied by the upgrade.
  const previous = Math.min(12, SQLITE_MIGRATIONS.length - 1);

  async function oldStore(dir: string): Promise<string> {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "leoflow.db");
    const db = new Database(file);
    db.run("PRAGMA journal_mode = WAL");
    await runMigrations(SQLITE_MIGRATIONS.slice(0, previous), sqliteMigrationTarget(db));
    const t = Date.now() - 60_000;
    const hash = await Bun.password.hash(PASSWORD, { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 });
    db.run("INSERT INTO users (username, password_hash, role, created_at) VALUES ('ada', ?, 'Admin', ?)", [hash, t]);
    db.run("INSERT INTO dag_versions (id, dag_id, hash, spec, created_at) VALUES (1, 'legacy', 'h1', ?, ?)", [SPEC, t]);
    db.run("INSERT INTO dags (dag_id, fileloc, version_id, last_parsed_at) VALUES ('legacy', '/old/dags/legacy.json', 1, ?)", [t]);
    db.run(
      `INSERT INTO dag_runs (id, dag_id, run_id, run_type, state, logical_date, conf, version_id, queued_at, start_date, end_date)
       VALUES (1, 'legacy', 'manual__old', 'manual', 'success', ?, '{"from":"old"}', 1, ?, ?, ?)`,
      [t, t, t, t + 1000],
    );
    db.run(
      `INSERT INTO task_instances (dag_run_id, dag_id, run_id, task_id, state, operator, pool, start_date, end_date, updated_at)
       VALUES (1, 'legacy', 'manual__old', 'hello', 'success', 'BashOperator', 'default_pool', ?, ?, ?)`,
      [t, t + 500, t + 500],
    );
    db.run("INSERT INTO variables (key, value, updated_at) VALUES ('greeting', 'hello from before', ?)", [t]);
    db.close();
    return file;
  }

  test(`a store at schema ${previous} with data is migrated at start and serves its data`, async () => {
    const dir = join(work, "sqlite-old");
    const file = await oldStore(dir);
    const { url, stop } = await serve(`sqlite:${file}`, dir);
    try {
      await expectOldDataServed(url);
    } finally {
      await stop();
    }
    const db = new Database(file, { readonly: true });
    expect(db.query("SELECT max(version) AS v FROM schema_migrations").get()).toEqual({ v: SQLITE_MIGRATIONS.length });
    db.close();
  });

  test("a store migrated by a newer release is refused, naming both versions", async () => {
    const dir = join(work, "sqlite-new");
    const file = await oldStore(dir);
    const db = new Database(file);
    await runMigrations(SQLITE_MIGRATIONS, sqliteMigrationTarget(db));
    db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_the_future', 0)", [SQLITE_MIGRATIONS.length + 1]);
    db.close();
    const server = spawnCapturing([BINARY, "serve", "--db", `sqlite:${file}`, "--data-dir", join(dir, "data"), "--port", "0"], {
      cwd: dir,
      env: process.env,
    });
    expect(await server.proc.exited).toBe(1);
    expect(server.output()).toContain(
      `the database schema is at version ${SQLITE_MIGRATIONS.length + 1} but this Leoflow knows migrations up to ${SQLITE_MIGRATIONS.length}`,
    );
    expect(server.output()).toContain(`(this binary is leoflow ${VERSION})`);
  });
});

describePg("Postgres", () => {
  // The schema the SQL below writes (before 0013 added teams): later migrations are all applied by the upgrade.
  const previous = Math.min(12, POSTGRES_MIGRATIONS.length - 1);
  const schema = uniqueSchemaName();
  const sql = postgres(pgUrl(), { max: 1, onnotice: () => {} });
  afterAll(async () => {
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await sql.end();
  });

  test(`a store at schema ${previous} with data is migrated at start and serves its data`, async () => {
    await sql.unsafe(`CREATE SCHEMA ${schema}`);
    const pool = postgres(pgUrl(), { max: 1, onnotice: () => {}, connection: { search_path: schema } });
    await runMigrations(POSTGRES_MIGRATIONS.slice(0, previous), postgresMigrationTarget(pool as never, schema));
    const hash = await Bun.password.hash(PASSWORD, { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 });
    await pool.unsafe(
      `INSERT INTO users (username, password_hash, role, created_at) VALUES ('ada', $1, 'Admin', now());
       INSERT INTO dag_versions (id, dag_id, hash, spec, created_at) VALUES (1, 'legacy', 'h1', $2::jsonb, now());
       INSERT INTO dags (dag_id, fileloc, version_id, last_parsed_at) VALUES ('legacy', '/old/dags/legacy.json', 1, now());
       INSERT INTO dag_runs (id, dag_id, run_id, run_type, state, logical_date, conf, version_id, queued_at, start_date, end_date)
         VALUES (1, 'legacy', 'manual__old', 'manual', 'success', now(), '{"from":"old"}', 1, now(), now(), now());
       INSERT INTO task_instances (dag_run_id, dag_id, run_id, task_id, state, operator, pool, start_date, end_date, updated_at)
         VALUES (1, 'legacy', 'manual__old', 'hello', 'success', 'BashOperator', 'default_pool', now(), now(), now());
       INSERT INTO variables (key, value, updated_at) VALUES ('greeting', 'hello from before', now());`.replaceAll(/\$(\d)/g, (_, n) =>
        n === "1" ? `'${hash}'` : `'${SPEC}'`,
      ),
    );
    await pool.end();
    const dir = join(work, "pg");
    const { url, stop } = await serve(`${pgUrl()}?search_path=${schema}`, dir);
    try {
      await expectOldDataServed(url);
    } finally {
      await stop();
    }
    const [row] = await sql.unsafe(`SELECT max(version)::int AS v FROM ${schema}.schema_migrations`);
    expect(row?.v).toBe(POSTGRES_MIGRATIONS.length);
  });
});
