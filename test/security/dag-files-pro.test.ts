/**
 * Hostile DAG files on Pro: two replicas load the same folder, which holds a good DAG beside a file that calls
 * process.exit(1) at import and one that hangs. Before, every replica that loaded the folder died; now both
 * keep serving, both report the import errors, and the good DAG runs through the load balancer.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describePg } from "../support/postgres";
import { ProCluster } from "../support/pro-cluster";
import { waitForRun } from "../e2e/harness";
import { HOSTILE, PARSE_ARGS } from "./dag-files-hostile";

describePg("Pro: hostile DAG files on two replicas", () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-sec-dags-pro-"));
  const cluster = new ProCluster({ dir, names: ["r1", "r2"], args: PARSE_ARGS });

  beforeAll(async () => {
    const dags = join(dir, "dags");
    mkdirSync(dags);
    writeFileSync(
      join(dags, "good.json"),
      JSON.stringify({ dag_id: "pro_good", tasks: [{ task_id: "a", operator: "bash", bash_command: "echo ok" }] }),
    );
    for (const name of ["exit_at_import.ts", "hang.ts"]) writeFileSync(join(dags, name), HOSTILE[name]!.text);
    await cluster.start(dags);
  }, 90_000);
  afterAll(() => cluster.stop());

  test("both replicas keep serving and list the import errors; the good DAG runs", async () => {
    for (const r of cluster.replicas) {
      expect(r.proc.exitCode).toBeNull();
      expect((await r.api("GET", "/api/v2/monitor/health")).status).toBe(200);
      const { body } = await r.api<{ import_errors: { filename: string; stack_trace: string }[] }>("GET", "/api/v2/importErrors");
      const byFile = Object.fromEntries(body.import_errors.map((e) => [e.filename.split("/").pop(), e.stack_trace]));
      expect(byFile["exit_at_import.ts"]).toMatch(HOSTILE["exit_at_import.ts"]!.expected);
      expect(byFile["hang.ts"]).toMatch(HOSTILE["hang.ts"]!.expected);
    }
    const [leader] = cluster.replicas;
    expect((await leader!.api("POST", "/api/v2/dags/pro_good/dagRuns", { dag_run_id: "p1", logical_date: null })).status).toBe(200);
    expect((await waitForRun(leader!, "pro_good", "p1")).state).toBe("success");
  }, 60_000);
});
