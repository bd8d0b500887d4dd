/**
 * One Lite server per SQLite database. Found by hand: a second `leoflow serve` in the same folder ran a second
 * scheduler beside the first (every callback fired twice), and two started together failed with "database is
 * locked" or EEXIST on the secrets key. Now the second exits 1 naming the first, which keeps serving; once the
 * first stops, the same command starts. The same on Postgres, per schema: a Lite server holds the scheduler's
 * leader lock, so a second Lite server, or one beside a Pro deployment, is refused naming the holder.
 */
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnCapturing } from "../support/leoflow-process";
import { describePg, freshSchemas, pgUrlWithSchema } from "../support/postgres";
import { proFlags } from "../support/pro-cluster";
import { ADMIN_PASSWORD, liteServeArgv, startLeoflow, waitFor } from "./harness";

test("a second server on the same SQLite database exits 1 naming the first; the first keeps serving", async () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-one-server-"));
  mkdirSync(join(dir, "dags"));
  const first = await startLeoflow({ dir });
  try {
    const env = { ...process.env, LEOFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD };
    const second = spawnCapturing(liteServeArgv(dir), { cwd: dir, env });
    expect(await second.proc.exited).toBe(1);
    expect(second.output()).toContain(`is in use by the leoflow server with pid ${first.proc.pid} on `);
    expect(second.output()).toContain("one server per SQLite database: stop that one first, or give this one its own --db (or --data-dir)");
    expect((await first.api("GET", "/api/v2/dags")).status).toBe(200);
  } finally {
    expect(await first.stop()).toBe(0);
  }
  const again = await startLeoflow({ dir });
  expect((await again.api("GET", "/api/v2/dags")).status).toBe(200);
  await again.stop();
}, 60_000);

describePg("one Lite server per Postgres schema", () => {
  const schemas = freshSchemas();
  /** A server's own folder, with an empty DAG folder. */
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-one-server-pg-"));
    mkdirSync(join(dir, "dags"));
    return dir;
  };
  const dbOf = (schema: string) => pgUrlWithSchema(schema);

  test("a second Lite server on the same schema exits 1 naming the first; another schema is its own; once the first stops, it starts", async () => {
    const db = dbOf(schemas.next());
    const first = await startLeoflow({ dir: folder(), args: ["--db", db] });
    try {
      const env = { ...process.env, LEOFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD };
      const dir = folder();
      const second = spawnCapturing([...liteServeArgv(dir), "--db", db], { cwd: dir, env });
      expect(await second.proc.exited).toBe(1);
      expect(second.output()).toContain(`already has a Leoflow scheduler: leoflow lite pid ${first.proc.pid} on `);
      expect(second.output()).toContain("one Lite server per database: stop that one first");
      expect((await first.api("GET", "/api/v2/dags")).status).toBe(200);
      // Another schema of the same database is another deployment.
      const elsewhere = await startLeoflow({ dir, args: ["--db", dbOf(schemas.next())] });
      expect((await elsewhere.api("GET", "/api/v2/dags")).status).toBe(200);
      expect(await elsewhere.stop()).toBe(0);
    } finally {
      expect(await first.stop()).toBe(0);
    }
    const again = await startLeoflow({ dir: folder(), args: ["--db", db] });
    expect((await again.api("GET", "/api/v2/dags")).status).toBe(200);
    await again.stop();
  }, 90_000);

  test("a Lite server beside a Pro deployment on the same schema is refused: Pro elects its one scheduler", async () => {
    const db = dbOf(schemas.next());
    const pro = await startLeoflow({
      dir: folder(),
      args: [...proFlags(db), "--leader-poll", "1"],
    });
    try {
      await waitFor(
        async () => (await pro.api("GET", "/api/v2/monitor/health")).body?.scheduler?.status === "healthy",
        20_000,
        () => pro.output(),
      );
      const dir = folder();
      const lite = spawnCapturing([...liteServeArgv(dir), "--db", db], {
        cwd: dir,
        env: { ...process.env, LEOFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD },
      });
      expect(await lite.proc.exited).toBe(1);
      expect(lite.output()).toContain(`already has a Leoflow scheduler: leoflow-leader pid ${pro.proc.pid} on `);
    } finally {
      await pro.stop();
    }
  }, 90_000);
});

describePg("a Pro replica beside a Lite server", () => {
  const schemas = freshSchemas();
  test("a Pro replica on a schema a Lite server runs exits 1 naming it; the Lite server keeps serving", async () => {
    const db = pgUrlWithSchema(schemas.next());
    const folder = () => {
      const dir = mkdtempSync(join(tmpdir(), "leoflow-pro-beside-lite-"));
      mkdirSync(join(dir, "dags"));
      return dir;
    };
    const lite = await startLeoflow({ dir: folder(), args: ["--db", db] });
    try {
      const dir = folder();
      const pro = spawnCapturing([...liteServeArgv(dir), ...proFlags(db)], {
        cwd: dir,
        env: { ...process.env, LEOFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD },
      });
      expect(await pro.proc.exited).toBe(1);
      expect(pro.output()).toContain(`is run by a Lite server: leoflow lite pid ${lite.proc.pid} on `);
      expect(pro.output()).toContain("stop that server first, then start every server on it with --mode=pro");
      expect((await lite.api("GET", "/api/v2/dags")).status).toBe(200);
    } finally {
      expect(await lite.stop()).toBe(0);
    }
  }, 90_000);
});
