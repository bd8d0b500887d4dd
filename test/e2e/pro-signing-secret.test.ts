/**
 * Pro: one token signing secret per deployment. A replica started with another --jwt-secret used to join silently and
 * then refuse the user and agent tokens the other replicas signed; it is now refused at start, naming the fix. A
 * rotation as the README describes it (the new secret, the old one in --jwt-previous-secrets) still starts, and once
 * such a replica leads the deployment's secret is the new one. The compiled binary on a real Postgres schema.
 */
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { describePg, freshSchemas, pgUrl, pgUrlWithSchema } from "../support/postgres";
import { proFlags } from "../support/pro-cluster";
import { spawnCapturing } from "../support/leoflow-process";
import { ADMIN_PASSWORD, liteServeArgv, startLeoflow, waitFor } from "./harness";

const OLD = "deployment-secret-old-0123456789";
const NEW = "deployment-secret-new-0123456789";
const STRANGER = "another-secret-altogether-012345";

describePg("Pro: a replica with another signing secret", () => {
  const schema = freshSchemas().next();
  const db = pgUrlWithSchema(schema);
  const root = mkdtempSync(join(tmpdir(), "leoflow-pro-secret-"));
  let n = 0;
  /** `serve` flags of a replica in a directory of its own, with its own signing secrets. */
  const replica = (secret: string, previous?: string) => {
    const dir = join(root, `r${++n}`);
    mkdirSync(join(dir, "dags"), { recursive: true });
    const flags = [...proFlags(db), "--leader-poll", "1", `--jwt-secret=${secret}`];
    return { dir, args: previous ? [...flags, `--jwt-previous-secrets=${previous}`] : flags };
  };
  /** Starts a replica that must be refused; returns its exit code and output. */
  const refused = async (secret: string, previous?: string) => {
    const { dir, args } = replica(secret, previous);
    const { proc, output } = spawnCapturing([...liteServeArgv(dir), ...args], {
      cwd: dir,
      env: { ...process.env, LEOFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD },
    });
    const code = await Promise.race([proc.exited, Bun.sleep(20_000).then(() => (proc.kill(), "still running"))]);
    return { code, output: output() };
  };

  test("is refused at start with the fix; a rotation starts and, leading, makes the new secret the deployment's", async () => {
    const first = await startLeoflow(replica(OLD));
    try {
      await waitFor(
        () => first.output().includes("became scheduler leader"),
        20_000,
        () => first.output(),
      );
      const stranger = await refused(STRANGER);
      expect(stranger.code).toBe(1);
      expect(stranger.output).toContain(
        "this replica's token signing secret (--jwt-secret) is not the one this Pro deployment signs tokens with",
      );
      // Where the deployment's secret came from: the replica that recorded it.
      expect(stranger.output).toMatch(new RegExp(`recorded by \\S+ pid ${first.proc.pid} at `));
      expect(stranger.output).toContain("Start it with the same --jwt-secret (LEOFLOW_JWT_SECRET) as the other replicas");
      expect(stranger.output).toContain("--jwt-previous-secrets");
      expect(stranger.output).not.toContain(OLD);
      expect(stranger.output).not.toContain(STRANGER);
      expect(stranger.output).not.toContain("leoflow is serving");
    } finally {
      await first.stop();
    }

    // The rotation: the new secret, the old one previous. It leads (the other stopped) and moves the fingerprint on.
    const rotated = await startLeoflow(replica(NEW, OLD));
    try {
      await waitFor(
        () => rotated.output().includes("the deployment's token signing secret is now this replica's --jwt-secret"),
        20_000,
        () => rotated.output(),
      );
      // Now a replica with only the old secret is the stranger; one with the new secret joins.
      const stale = await refused(OLD);
      expect(stale.code).toBe(1);
      expect(stale.output).toContain("is not the one this Pro deployment signs tokens with");
      const joined = await startLeoflow(replica(NEW));
      expect((await joined.api("GET", "/api/v2/dags")).status).toBe(200);
      expect(await joined.stop()).toBe(0);
    } finally {
      await rotated.stop();
    }
    // Only a fingerprint is stored, never a secret.
    const sql = postgres(pgUrl(), { max: 1, onnotice: () => {} });
    const rows = await sql.unsafe(`SELECT fingerprint FROM "${schema}".signing_fingerprint`);
    await sql.end({ timeout: 1 });
    expect(rows.length).toBe(1);
    expect(JSON.stringify(rows)).not.toContain(NEW);
    expect(JSON.stringify(rows)).not.toContain(OLD);
  }, 120_000);
});
