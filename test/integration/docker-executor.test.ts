/**
 * The Docker executor against a real engine (podman's Docker-compatible service from scripts/podman-service,
 * or any DOCKER_HOST): the compiled binary serves with --executor=docker, and every task runs in its own
 * container from a locally imported image, with the binary bind-mounted as the agent. Checked over HTTP and
 * on the engine: XCom, logs, exit code 3, an OOM kill and an external kill caught by the reconciler, the
 * pull policy, the DAG allowlist, and no containers left behind. Skips locally (one line) without an engine;
 * required under CI=true.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLeoflow, waitFor, waitForRun, type Leoflow } from "../e2e/harness";
import { ensureTestImage, testEngine } from "../support/docker";
import type { DockerClient } from "../../src/executors";

const engine = await testEngine();
const T = 90_000;

function dag(dagId: string, tasks: object[], defaults: object = {}): object {
  return { dag_id: dagId, default_args: { image_pull_policy: "never", ...defaults }, tasks };
}

const DAGS: Record<string, object> = {
  "pipeline.json": dag(
    "docker_pipeline",
    [
      {
        task_id: "extract",
        operator: "bash",
        bash_command: [
          'echo "running as uid $(id -u)"',
          "touch /should-fail 2>/dev/null && echo 'root fs writable' || echo 'root fs is read-only'",
          'for i in 1 2 3; do echo "line $i"; done',
          'echo \'{"rows": 42}\' > "$LEOFLOW_RETURN_VALUE_PATH"',
        ].join("; "),
        env: { GREETING: "hello from the task env" },
      },
      {
        task_id: "load",
        operator: "bash",
        upstream: ["extract"],
        bash_command: 'echo "got $LEOFLOW_XCOM_EXTRACT"; echo "$GREETING"; echo err-line >&2',
      },
    ],
    { env: { GREETING: "hello from the task env" } },
  ),
  "staging.json": {
    ...dag("docker_staging", [
      { task_id: "write", operator: "bash", bash_command: 'echo shared-bytes > "$LEOFLOW_STAGING_DIR/part-0"' },
      { task_id: "read", operator: "bash", upstream: ["write"], bash_command: "cat /staging/part-0" },
    ]),
    staging: { enabled: true },
  },
  "exit3.json": dag("docker_exit3", [{ task_id: "fails", operator: "bash", bash_command: "echo about to fail; exit 3" }]),
  // The task holds ~200 MB in a 32 MiB container: the kernel's OOM killer ends it. Which process it picks
  // (the task, or the agent with it) decides whether the agent or the reconciler reports; both are checked.
  // The pause lets the agent ship "allocating" (it flushes every 200 ms) before the killer may pick it.
  "oom.json": dag("docker_oom", [
    {
      task_id: "hungry",
      operator: "bash",
      bash_command: "echo allocating; sleep 1; x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived",
      resources: { memory: "32Mi" },
    },
  ]),
  "leftovers.json": dag("docker_leftovers", [
    { task_id: "a", operator: "bash", bash_command: "echo a" },
    { task_id: "b", operator: "bash", upstream: ["a"], bash_command: "echo b" },
  ]),
  "sleeper.json": dag("docker_sleeper", [{ task_id: "sleeper", operator: "bash", bash_command: "echo sleeping; sleep 300" }]),
  "missing-image.json": dag("docker_missing_image", [
    { task_id: "t", operator: "bash", bash_command: "true", image: "localhost/leoflow-no-such-image:1" },
  ]),
  "not-allowed.json": dag("docker_not_allowed", [
    { task_id: "t", operator: "bash", bash_command: "true", image: "docker.io/library/alpine:3" },
  ]),
};

describe.skipIf(!engine)("docker executor (real engine)", () => {
  const client = engine as DockerClient;
  let lf: Leoflow;

  beforeAll(async () => {
    const image = await ensureTestImage(client);
    const dir = mkdtempSync(join(tmpdir(), "leoflow-docker-"));
    mkdirSync(join(dir, "dags"));
    for (const [file, body] of Object.entries(DAGS)) writeFileSync(join(dir, "dags", file), JSON.stringify(body));
    lf = await startLeoflow({
      dir,
      args: [
        "--executor=docker",
        `--docker-host=${client.host}`,
        `--docker-default-image=${image}`,
        "--docker-allowed-images=localhost/*",
        "--docker-remove-grace=1",
        "--docker-reconcile-interval=0.3",
        "--dispatch-retries=1",
      ],
    });
    // The server logs its instance id (a digest of its store's address and creation time) when docker is ready.
    instance = await waitFor(
      () => /instance=([0-9a-f]{12})/.exec(lf.output())?.[1],
      20_000,
      () => `no instance in the log:\n${lf.output()}`,
    );
  }, T);

  afterAll(async () => {
    await lf?.stop();
  });

  const trigger = async (dagId: string, runId: string) => {
    const res = await lf.api("POST", `/api/v2/dags/${dagId}/dagRuns`, { dag_run_id: runId, logical_date: null });
    expect(res.status).toBe(200);
  };
  const ti = async (dagId: string, runId: string, taskId: string) =>
    (await lf.api("GET", `/api/v2/dags/${dagId}/dagRuns/${runId}/taskInstances/${taskId}`)).body;
  const logText = async (dagId: string, runId: string, taskId: string) => {
    const res = await lf.api("GET", `/api/v2/dags/${dagId}/dagRuns/${runId}/taskInstances/${taskId}/logs/1`);
    return (res.body.content as { stream: string; event: string }[]).map((l) => `${l.stream}: ${l.event}`).join("\n");
  };
  // This server's containers only: another test run may share the engine. The server labels its containers
  // with its instance id (dockerInstanceId), read from its log.
  let instance = "";
  const ours = async () => client.listContainers([`io.leoflow.instance=${instance}`]);

  test(
    "tasks run in containers: XCom passes, logs stream, non-root on a read-only root",
    async () => {
      await trigger("docker_pipeline", "p1");
      const run = await waitForRun(lf, "docker_pipeline", "p1", T);
      expect(run.state).toBe("success");
      const extract = await logText("docker_pipeline", "p1", "extract");
      expect(extract).toContain("stdout: running as uid 65534");
      expect(extract).toContain("stdout: root fs is read-only");
      expect(extract).toContain("stdout: line 3");
      const xcom = await lf.api("GET", "/api/v2/dags/docker_pipeline/dagRuns/p1/taskInstances/extract/xcomEntries/return_value");
      expect(xcom.body.value).toEqual({ rows: 42 });
      const load = await logText("docker_pipeline", "p1", "load");
      expect(load).toContain('stdout: got {"rows":42}');
      expect(load).toContain("stdout: hello from the task env");
      expect(load).toContain("stderr: err-line");
      for (const id of ["extract", "load"]) {
        const t = await ti("docker_pipeline", "p1", id);
        expect(t.executor).toBe("docker");
        // Dispatch → container created and started → agent registered (reported, not asserted: no timed assertions).
        console.log(`docker: ${id}: queued → agent registered in ${Date.parse(t.start_date) - Date.parse(t.queued_when)} ms`);
      }
    },
    T,
  );

  test(
    "staging: tasks of a run share a named volume, reclaimed once the run succeeded",
    async () => {
      await trigger("docker_staging", "st1");
      expect((await waitForRun(lf, "docker_staging", "st1", T)).state).toBe("success");
      expect(await logText("docker_staging", "st1", "read")).toContain("stdout: shared-bytes");
      const volumes = async () => (await client.listVolumes(`io.leoflow.instance=${instance}`)).length;
      await waitFor(
        async () => (await volumes()) === 0,
        T,
        () => "staging volume not reclaimed",
      );
    },
    T,
  );

  test(
    "a task exiting 3 fails with its exit code in the note and the log",
    async () => {
      await trigger("docker_exit3", "e1");
      expect((await waitForRun(lf, "docker_exit3", "e1", T)).state).toBe("failed");
      const t = await ti("docker_exit3", "e1", "fails");
      expect(t.state).toBe("failed");
      const log = await logText("docker_exit3", "e1", "fails");
      expect(log).toContain("stdout: about to fail");
      expect(log).toContain("agent: task failed: exit code 3");
    },
    T,
  );

  test(
    "an OOM-killed container is failed by the reconciler with the reason",
    async () => {
      await trigger("docker_oom", "o1");
      expect((await waitForRun(lf, "docker_oom", "o1", T)).state).toBe("failed");
      const t = await ti("docker_oom", "o1", "hungry");
      expect(t.state).toBe("failed");
      // podman on cgroup v1 does not always set OOMKilled; a SIGKILL (exit 137) and the limit are always there.
      expect(t.note).toMatch(
        /killed by SIGKILL|OOM-killed \(memory limit 32 MiB\)|code 137: killed by SIGKILL \(out of memory \(memory limit 32 MiB\)/,
      );
      const log = await logText("docker_oom", "o1", "hungry");
      expect(log).toContain("allocating");
      expect(log).not.toContain("stdout: survived");
    },
    T,
  );

  test(
    "a container killed from outside is failed by the reconciler, keeping its last log lines",
    async () => {
      await trigger("docker_sleeper", "s1");
      await waitFor(
        async () => (await ti("docker_sleeper", "s1", "sleeper")).state === "running",
        T,
        () => "sleeper never ran",
      );
      await waitFor(
        async () => (await logText("docker_sleeper", "s1", "sleeper")).includes("sleeping"),
        T,
        () => "no log",
      );
      const [container] = (await ours()).filter((c) => c.Labels["io.leoflow.dag_id"] === "docker_sleeper");
      expect(container).toBeDefined();
      await client.killContainer(container!.Id, "SIGKILL");
      expect((await waitForRun(lf, "docker_sleeper", "s1", T)).state).toBe("failed");
      const t = await ti("docker_sleeper", "s1", "sleeper");
      expect(t.note).toBe(
        "container exited with code 137: killed by SIGKILL (out of memory (memory limit 512 MiB), or stopped from outside) before the agent reported a final state",
      );
      const log = await logText("docker_sleeper", "s1", "sleeper");
      expect(log).toContain("stdout: sleeping");
      expect(log).toContain("executor: container exited with code 137");
    },
    T,
  );

  test(
    "an image that is missing with pull policy never fails the task with a clear reason",
    async () => {
      await trigger("docker_missing_image", "m1");
      expect((await waitForRun(lf, "docker_missing_image", "m1", T)).state).toBe("failed");
      const t = await ti("docker_missing_image", "m1", "t");
      expect(t.note).toContain("image localhost/leoflow-no-such-image:1 is not on the docker engine");
      expect(t.note).toContain('image_pull_policy is "never"');
    },
    T,
  );

  test("a DAG asking for an image outside the allowlist is refused at load", async () => {
    const dags = (await lf.api("GET", "/api/v2/dags")).body.dags.map((d: any) => d.dag_id);
    expect(dags).not.toContain("docker_not_allowed");
    const errors = (await lf.api("GET", "/api/v2/importErrors")).body.import_errors;
    const mine = errors.find((e: any) => e.filename.endsWith("not-allowed.json"));
    expect(mine.stack_trace).toContain(
      'tasks[0].image: image "docker.io/library/alpine:3" is not allowed by this server (allowed: localhost/*)',
    );
  });

  // Last in the file, so it also sees what the tests above left; it runs tasks of its own, so it proves something
  // when run alone too (-t "none left behind"). Anything labelled with this server's instance counts, whoever made it.
  test(
    "finished containers are removed after the grace period: none left behind",
    async () => {
      await trigger("docker_leftovers", "l1");
      expect((await waitForRun(lf, "docker_leftovers", "l1", T)).state).toBe("success");
      for (const id of ["a", "b"]) expect((await ti("docker_leftovers", "l1", id)).executor).toBe("docker");
      let left: string[] = [];
      const leftovers = async () => [
        ...(await ours()).map((c) => `container ${c.Names?.[0]} (${c.State}, dag ${c.Labels["io.leoflow.dag_id"] ?? "?"})`),
        ...(await client.listVolumes(`io.leoflow.instance=${instance}`)).map((v) => `volume ${v.Name}`),
      ];
      // The grace is 1 s and the reconciler passes every 0.3 s: waiting is for the engine, not for a deadline.
      await waitFor(
        async () => (left = await leftovers()).length === 0,
        30_000,
        () => `left behind on the engine:\n${left.join("\n")}`,
      );
    },
    T,
  );
});

describe("docker executor without an engine", () => {
  test(
    "an unreachable engine is a dispatch failure with a precise message, and the server keeps serving",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "leoflow-docker-down-"));
      mkdirSync(join(dir, "dags"));
      writeFileSync(
        join(dir, "dags", "d.json"),
        JSON.stringify(dag("docker_down", [{ task_id: "t", operator: "bash", bash_command: "true" }])),
      );
      const sock = join(dir, "no-engine.sock");
      const lf = await startLeoflow({ dir, args: ["--executor=docker", `--docker-host=unix://${sock}`, "--dispatch-retries=1"] });
      try {
        expect(lf.output()).toContain(`docker engine at unix://${sock} is not reachable`);
        await lf.api("POST", "/api/v2/dags/docker_down/dagRuns", { dag_run_id: "d1", logical_date: null });
        expect((await waitForRun(lf, "docker_down", "d1", T)).state).toBe("failed");
        const t = (await lf.api("GET", "/api/v2/dags/docker_down/dagRuns/d1/taskInstances/t")).body;
        expect(t.note).toContain(`docker engine at unix://${sock} is not reachable`);
        expect(t.note).toContain("pass --docker-host");
        expect((await fetch(`${lf.url}/api/v2/monitor/health`)).status).toBe(200);
      } finally {
        await lf.stop();
      }
    },
    T,
  );
});
