/**
 * A server that listens on one address other than 127.0.0.1 (`--host`) tells its agents that address. Found by
 * hand: with `--host 192.0.2.2` or `--host ::1` the agents dialled 127.0.0.1, were refused, and every subprocess
 * task failed as agent_lost with an empty log. 127.0.0.2 stands in for such an address (a loopback alias every
 * Linux host has, where 127.0.0.1 does not listen).
 */
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localServerUrl } from "../../src/domain";
import { startLeoflow, waitFor, waitForRun } from "./harness";

test("agents reach a server bound to one address (--host 127.0.0.2): a bash task heartbeats, logs and succeeds", async () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-host-bind-"));
  mkdirSync(join(dir, "dags"));
  writeFileSync(
    join(dir, "dags", "hi.json"),
    JSON.stringify({ dag_id: "hi", tasks: [{ task_id: "say", operator: "bash", bash_command: "echo hi there; sleep 4" }] }),
  );
  // Heartbeats and log lines go over HTTP while the task runs (its report may take the agent's pipe): a 4-s task
  // with a 2-s agent_lost threshold fails when they cannot reach the server.
  const lf = await startLeoflow({ dir, args: ["--host", "127.0.0.2", "--heartbeat-interval", "1", "--agent-lost-after", "2"] });
  try {
    expect(lf.url).toStartWith("http://127.0.0.2:");
    await waitFor(
      async () => (await lf.api("GET", "/api/v2/dags/hi")).status === 200,
      20_000,
      () => lf.output(),
    );
    expect((await lf.api("POST", "/api/v2/dags/hi/dagRuns", { dag_run_id: "r1", logical_date: null })).status).toBe(200);
    expect((await waitForRun(lf, "hi", "r1", 30_000)).state).toBe("success");
    const log = await lf.api("GET", "/api/v2/dags/hi/dagRuns/r1/taskInstances/say/logs/1?full_content=true");
    expect(JSON.stringify(log.body)).toContain("hi there");
  } finally {
    await lf.stop();
  }
}, 60_000);

test.each([
  ["0.0.0.0", "http://127.0.0.1:8080"],
  ["::", "http://127.0.0.1:8080"],
  ["127.0.0.1", "http://127.0.0.1:8080"],
  ["192.0.2.2", "http://192.0.2.2:8080"],
  ["::1", "http://[::1]:8080"],
  ["[::1]", "http://[::1]:8080"],
  ["leoflow.internal", "http://leoflow.internal:8080"],
])("localServerUrl(%p, 8080) = %p", (host, url) => expect(localServerUrl(host, 8080)).toBe(url));
