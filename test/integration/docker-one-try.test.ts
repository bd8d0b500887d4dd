/**
 * Docker: one try of a task instance at a time, and names that never clash across installs, against a real
 * engine (skips locally without one; required under CI=true).
 * - In-process: try 2's launch stops and removes try 1's still-running container first.
 * - The compiled binary: a running container left by another install under the old-style name
 *   `leoflow-<dag>-<task>-1-1` neither blocks the task nor is touched by this server's reconciler; and a task
 *   container sees none of the server's secrets, only the passthrough name.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDagSpec } from "../../src/domain/schemas";
import { silentLogger } from "../../src/observability";
import { containerName, type DockerClient, type DockerSettings, type ExecutorRequest } from "../../src/executors";
import { DockerExecutor } from "../../src/executors/docker";
import { BINARY, startLeoflow, waitFor, waitForRun } from "../e2e/harness";
import { ensureTestImage, testEngine } from "../support/docker";

const engine = await testEngine();
const T = 90_000;

describe.skipIf(!engine)("docker: one try at a time, instance-scoped names (real engine)", () => {
  const client = engine as DockerClient;
  const cleanup: string[][] = [];
  afterAll(async () => {
    for (const labels of cleanup) for (const c of await client.listContainers(labels)) await client.removeContainer(c.Id, true);
  });

  test(
    "try 2's launch stops and removes try 1's container that still runs",
    async () => {
      const instance = `t1-${process.pid}-${Date.now() % 1e6}`;
      cleanup.push([`io.leoflow.instance=${instance}`]);
      const settings: DockerSettings = {
        host: client.host,
        defaultImage: await ensureTestImage(client),
        network: "host",
        defaultCpu: "500m",
        defaultMemory: "128Mi",
        pullPolicy: "never",
        user: "65534:65534",
        agentBinary: BINARY,
        pidsLimit: 64,
        instance,
      };
      const executor = new DockerExecutor({ client, settings, logger: silentLogger, stopTimeoutSeconds: 1 });
      const task = parseDagSpec({ dag_id: "dk_one_try", tasks: [{ task_id: "a", operator: "bash", bash_command: "sleep 60" }] }).tasks[0]!;
      // The control plane does not answer, so each agent keeps retrying and its container keeps running.
      const req = (tryNumber: number): ExecutorRequest => ({
        taskInstanceId: 7,
        team: "default",
        dagId: "dk_one_try",
        runId: "r1",
        taskId: "a",
        tryNumber,
        task,
        dagFile: "",
        controlPlaneUrl: "http://127.0.0.1:1",
        agentToken: "unused",
      });
      const tries = async () =>
        (await client.listContainers([`io.leoflow.instance=${instance}`]))
          .map((c) => `${c.Labels["io.leoflow.try_number"]}:${c.State}`)
          .sort();

      await executor.execute(req(1));
      expect(await tries()).toEqual(["1:running"]);
      // A re-dispatch of the same try finds its live container by name and starts no second one.
      await executor.execute(req(1));
      expect(await tries()).toEqual(["1:running"]);
      await executor.execute(req(2));
      expect(await tries()).toEqual(["2:running"]);

      // A container holding this try's name but not its labels is never adopted nor removed: a clear error.
      const name = containerName(req(3), instance);
      const squatter = await client.createContainer(name, {
        Image: settings.defaultImage,
        Entrypoint: ["sleep"],
        Cmd: ["60"],
        Labels: { "io.leoflow.instance": instance, "io.leoflow.ti_id": "999" },
      });
      await expect(executor.execute(req(3))).rejects.toThrow(
        `a container named ${name} already exists on the docker engine but is not this try's (its io.leoflow.ti_id label is "999", expected "7")`,
      );
      expect((await client.inspectContainer(squatter))?.Id).toBe(squatter);
    },
    T,
  );

  test(
    "a leftover container of another install under the old name blocks nothing and is left alone; no server secret reaches a container",
    async () => {
      const image = await ensureTestImage(client);
      const other = `other-${process.pid}-${Date.now() % 1e6}`;
      cleanup.push([`io.leoflow.instance=${other}`]);
      const oldName = `leoflow-dk_leftover-t-1-1`;
      await client.removeContainer(oldName, true).catch(() => {});
      const labels = {
        "io.leoflow.managed": "true",
        "io.leoflow.instance": other,
        "io.leoflow.ti_id": "1",
        "io.leoflow.try_number": "1",
        "io.leoflow.dag_id": "dk_leftover",
      };
      const id = await client.createContainer(oldName, {
        Image: image,
        Entrypoint: ["sleep"],
        Cmd: ["300"],
        Labels: labels,
        HostConfig: { NetworkMode: "host" },
      });
      await client.startContainer(id);

      const dir = mkdtempSync(join(tmpdir(), "leoflow-docker-one-try-"));
      mkdirSync(join(dir, "dags"));
      writeFileSync(
        join(dir, "dags", "leftover.json"),
        JSON.stringify({
          dag_id: "dk_leftover",
          default_args: { image_pull_policy: "never" },
          tasks: [{ task_id: "t", operator: "bash", bash_command: "env" }],
        }),
      );
      const lf = await startLeoflow({
        dir,
        args: [
          "--executor=docker",
          `--docker-host=${client.host}`,
          `--docker-default-image=${image}`,
          "--docker-remove-grace=1",
          "--docker-reconcile-interval=0.3",
          "--dispatch-retries=1",
        ],
        env: { SOME_SERVER_SECRET: "server-secret-for-docker", PASSED_TO_CONTAINERS: "yes", LEOFLOW_TASK_ENV_PASSTHROUGH: "PASSED_TO_*" },
      });
      try {
        const instance = await waitFor(
          () => /instance=([0-9a-f]{12})/.exec(lf.output())?.[1],
          20_000,
          () => `no instance in the log:\n${lf.output()}`,
        );
        cleanup.push([`io.leoflow.instance=${instance}`]);
        expect((await lf.api("POST", "/api/v2/dags/dk_leftover/dagRuns", { dag_run_id: "l1", logical_date: null })).status).toBe(200);
        const run = await waitForRun(lf, "dk_leftover", "l1", T);
        const ti = (await lf.api("GET", "/api/v2/dags/dk_leftover/dagRuns/l1/taskInstances/t")).body;
        expect([run.state, ti.note]).toEqual(["success", null]);
        const log = (await lf.api("GET", "/api/v2/dags/dk_leftover/dagRuns/l1/taskInstances/t/logs/1")).body.content.map(
          (l: { event: string }) => l.event,
        );
        expect(log).toContain("PASSED_TO_CONTAINERS=yes");
        expect(log).toContain("LEOFLOW_DAG_ID=dk_leftover");
        expect(
          log.filter(
            (l: string) =>
              l.includes("server-secret-for-docker") || l.includes("e2e-admin-password") || l.startsWith("LEOFLOW_TASK_ENV_PASSTHROUGH"),
          ),
        ).toEqual([]);
        // This server named its container after its own instance, and its reconciler never touched the other one.
        await waitFor(
          async () => (await client.listContainers([`io.leoflow.instance=${instance}`])).length === 0,
          T,
          () => "our container was not removed",
        );
        const theirs = await client.inspectContainer(oldName);
        expect(theirs?.State.Running).toBe(true);
      } finally {
        await lf.stop();
      }
    },
    T,
  );
});
