/**
 * Sensors end to end in the compiled binary: a file sensor released by a later write, an external-task
 * sensor on another DAG's task of the same logical date, each waiting `deferred` (no process) in between;
 * user checks: bash in modes poke and reschedule (up_for_reschedule between checks, same try), a ts check
 * whose value becomes its XCom; and the load-time refusal of a poke_interval under the 1 s floor.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLeoflow, waitFor, waitForRun, type Leoflow } from "./harness";

const LOGICAL = "2026-06-01T00:00:00Z";

describe("sensors (compiled binary)", () => {
  let lf: Leoflow;
  let inbox: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-e2e-sensors-"));
    inbox = join(dir, "inbox");
    mkdirSync(join(dir, "dags"));
    const dag = (name: string, spec: object) => writeFileSync(join(dir, "dags", `${name}.json`), JSON.stringify(spec));
    const open = { is_paused_upon_creation: false };
    dag("files", {
      dag_id: "sensor_files",
      ...open,
      tasks: [
        {
          task_id: "wait_for_orders",
          operator: "sensor",
          sensor: { kind: "file", path: `${inbox}/orders-*.csv` },
          poke_interval: 1,
          timeout: 120,
        },
        { task_id: "load", operator: "bash", bash_command: "echo loaded", upstream: ["wait_for_orders"] },
      ],
    });
    dag("producer", {
      dag_id: "sensor_producer",
      ...open,
      tasks: [{ task_id: "publish", operator: "bash", bash_command: "echo published" }],
    });
    dag("consumer", {
      dag_id: "sensor_consumer",
      ...open,
      tasks: [
        {
          task_id: "wait_for_publish",
          operator: "sensor",
          sensor: { kind: "external_task", external_dag_id: "sensor_producer", external_task_id: "publish" },
          poke_interval: 1,
          timeout: 120,
        },
        { task_id: "report", operator: "bash", bash_command: "echo reported", upstream: ["wait_for_publish"] },
      ],
    });
    dag("bash_check", {
      dag_id: "sensor_bash",
      ...open,
      tasks: [
        {
          task_id: "wait_for_flag",
          operator: "sensor",
          sensor: { kind: "bash", bash_command: `test -f ${dir}/flag || exit 75` },
          poke_interval: 1,
          timeout: 120,
        },
      ],
    });
    dag("bash_reschedule", {
      dag_id: "sensor_bash_reschedule",
      ...open,
      tasks: [
        {
          task_id: "wait_for_flag",
          operator: "sensor",
          sensor: { kind: "bash", bash_command: `echo checking; test -f ${dir}/resched-flag || exit 75` },
          mode: "reschedule",
          poke_interval: 1,
          timeout: 120,
          retries: 3,
        },
      ],
    });
    writeFileSync(
      join(dir, "dags", "ts_check.ts"),
      `import { existsSync, readFileSync } from "node:fs";
import { dag } from "leoflow/sdk";
dag({ dag_id: "sensor_ts", is_paused_upon_creation: false }, ({ sensor, ts }) => {
  const wait = sensor({
    task_id: "wait_for_count",
    sensor: { kind: "ts", check: () => existsSync(${JSON.stringify(join(dir, "count"))}) && { count: Number(readFileSync(${JSON.stringify(join(dir, "count"))}, "utf8")) } },
    mode: "reschedule",
    poke_interval: 1,
    timeout: 120,
  });
  ts({ task_id: "use", upstream: [wait] }, (ctx) => ctx.xcom.wait_for_count);
});
dag({ dag_id: "sensor_ts_timeout", is_paused_upon_creation: false }, ({ sensor }) => {
  sensor({ task_id: "never", sensor: { kind: "ts", check: () => false }, poke_interval: 1, timeout: 2, retries: 2 });
});
`,
    );
    dag("too_eager", {
      dag_id: "sensor_too_eager",
      tasks: [{ task_id: "poll", operator: "sensor", sensor: { kind: "file", path: "/tmp/x" }, poke_interval: 0.2 }],
    });
    dag("outside_roots", {
      dag_id: "sensor_outside_roots",
      tasks: [{ task_id: "peek", operator: "sensor", sensor: { kind: "file", path: `${inbox}/../../../etc/pass*` } }],
    });
    // The inbox is the one folder file sensors may read besides the DAGs folder.
    lf = await startLeoflow({ dir, env: { LEOFLOW_SENSOR_FILE_ROOTS: `${inbox},${join(dir, "dags")}` } });
    await waitFor(
      async () => (await lf.api("GET", "/api/v2/dags/sensor_consumer")).status === 200,
      20_000,
      () => `DAGs not loaded:\n${lf.output().slice(-3000)}`,
    );
  }, 40_000);
  afterAll(async () => {
    await lf?.stop();
  });

  const tiState = async (dagId: string, runId: string, taskId: string) =>
    (await lf.api("GET", `/api/v2/dags/${dagId}/dagRuns/${runId}/taskInstances/${taskId}`)).body;

  test("a poke_interval under 1 s is refused at load, saying where and why", async () => {
    const errors = (await lf.api("GET", "/api/v2/importErrors")).body.import_errors;
    const eager = errors.find((e: any) => e.filename.endsWith("too_eager.json"));
    expect(eager.stack_trace).toContain("tasks[0].poke_interval: poke_interval must be at least 1 s");
    expect((await lf.api("GET", "/api/v2/dags/sensor_too_eager")).status).toBe(404);
  });

  test("a file sensor path outside --sensor-file-roots is refused at load, even through ..", async () => {
    const errors = (await lf.api("GET", "/api/v2/importErrors")).body.import_errors;
    const outside = errors.find((e: any) => e.filename.endsWith("outside_roots.json"));
    expect(outside.stack_trace).toContain(`tasks[0].sensor.path: task "peek": file sensor path "${inbox}/../../../etc/pass*" is outside`);
    expect(outside.stack_trace).toContain("--sensor-file-roots");
    expect((await lf.api("GET", "/api/v2/dags/sensor_outside_roots")).status).toBe(404);
  });

  test("a file sensor waits deferred until a later write releases it", async () => {
    const trigger = await lf.api("POST", "/api/v2/dags/sensor_files/dagRuns", { dag_run_id: "files-1", logical_date: LOGICAL });
    expect(trigger.status).toBe(200);
    const waiting = await waitFor(
      async () => {
        const ti = await tiState("sensor_files", "files-1", "wait_for_orders");
        return ti.state === "deferred" && ti.note?.includes("next check") ? ti : null;
      },
      30_000,
      () => `sensor never deferred:\n${lf.output().slice(-3000)}`,
    );
    expect(waiting.note).toStartWith("sensor file waiting; next check ");
    expect((await tiState("sensor_files", "files-1", "load")).state).toBeNull();

    mkdirSync(inbox, { recursive: true });
    writeFileSync(join(inbox, "orders-2026-06-01.csv"), "id\n1\n");
    const run = await waitForRun(lf, "sensor_files", "files-1");
    expect(run.state).toBe("success");
    expect((await tiState("sensor_files", "files-1", "load")).state).toBe("success");
  });

  test("a bash sensor pokes in its agent until the check exits 0, and its log says so", async () => {
    expect((await lf.api("POST", "/api/v2/dags/sensor_bash/dagRuns", { dag_run_id: "b-1", logical_date: LOGICAL })).status).toBe(200);
    await waitFor(
      async () => (await tiState("sensor_bash", "b-1", "wait_for_flag")).state === "running",
      30_000,
      () => `bash sensor never ran:\n${lf.output().slice(-3000)}`,
    );
    writeFileSync(join(lf.dir, "flag"), "");
    expect((await waitForRun(lf, "sensor_bash", "b-1")).state).toBe("success");
    const log = (await lf.api("GET", "/api/v2/dags/sensor_bash/dagRuns/b-1/taskInstances/wait_for_flag/logs/1")).body;
    expect(JSON.stringify(log)).toContain("sensor done after");
  });

  test("a bash sensor in mode reschedule holds no process between checks, keeps its try, and is released by a later write", async () => {
    const id = { dag_run_id: "r-1", logical_date: LOGICAL };
    expect((await lf.api("POST", "/api/v2/dags/sensor_bash_reschedule/dagRuns", id)).status).toBe(200);
    const waiting = await waitFor(
      async () => {
        const ti = await tiState("sensor_bash_reschedule", "r-1", "wait_for_flag");
        return ti.state === "up_for_reschedule" ? ti : null;
      },
      30_000,
      () => `sensor never rescheduled:\n${lf.output().slice(-3000)}`,
    );
    expect(waiting.note).toStartWith("sensor bash waiting; next check ");
    writeFileSync(join(lf.dir, "resched-flag"), "");
    expect((await waitForRun(lf, "sensor_bash_reschedule", "r-1")).state).toBe("success");
    const done = await tiState("sensor_bash_reschedule", "r-1", "wait_for_flag");
    expect(done.try_number).toBe(1);
    // Every check's output is in the one try's log, not only the first's.
    const log = JSON.stringify(
      (await lf.api("GET", "/api/v2/dags/sensor_bash_reschedule/dagRuns/r-1/taskInstances/wait_for_flag/logs/1")).body,
    );
    expect(log.split("checking").length - 1).toBeGreaterThanOrEqual(2);
  });

  test("a ts sensor checks its function until it returns a value, which becomes its XCom", async () => {
    expect((await lf.api("POST", "/api/v2/dags/sensor_ts/dagRuns", { dag_run_id: "t-1", logical_date: LOGICAL })).status).toBe(200);
    await waitFor(
      async () => (await tiState("sensor_ts", "t-1", "wait_for_count")).state === "up_for_reschedule",
      30_000,
      () => `ts sensor never rescheduled:\n${lf.output().slice(-3000)}`,
    );
    writeFileSync(join(lf.dir, "count"), "42");
    expect((await waitForRun(lf, "sensor_ts", "t-1")).state).toBe("success");
    const xcom = await lf.api("GET", "/api/v2/dags/sensor_ts/dagRuns/t-1/taskInstances/use/xcomEntries/return_value");
    expect(JSON.stringify(xcom.body.value)).toContain("42");
  });

  test("a ts sensor in mode poke that times out fails without spending its retries", async () => {
    expect((await lf.api("POST", "/api/v2/dags/sensor_ts_timeout/dagRuns", { dag_run_id: "o-1", logical_date: LOGICAL })).status).toBe(200);
    expect((await waitForRun(lf, "sensor_ts_timeout", "o-1")).state).toBe("failed");
    const ti = await tiState("sensor_ts_timeout", "o-1", "never");
    expect(ti.state).toBe("failed");
    expect(ti.try_number).toBe(1);
    const log = JSON.stringify((await lf.api("GET", "/api/v2/dags/sensor_ts_timeout/dagRuns/o-1/taskInstances/never/logs/1")).body);
    expect(log).toContain("sensor timed out after 2 s");
  });

  test("an external task sensor waits for another DAG's task of the same logical date", async () => {
    expect((await lf.api("POST", "/api/v2/dags/sensor_consumer/dagRuns", { dag_run_id: "c-1", logical_date: LOGICAL })).status).toBe(200);
    await waitFor(
      async () => (await tiState("sensor_consumer", "c-1", "wait_for_publish")).state === "deferred",
      30_000,
      () => `sensor never deferred:\n${lf.output().slice(-3000)}`,
    );
    expect((await lf.api("POST", "/api/v2/dags/sensor_producer/dagRuns", { dag_run_id: "p-1", logical_date: LOGICAL })).status).toBe(200);
    expect((await waitForRun(lf, "sensor_producer", "p-1")).state).toBe("success");
    const run = await waitForRun(lf, "sensor_consumer", "c-1");
    expect(run.state).toBe("success");
    expect((await tiState("sensor_consumer", "c-1", "report")).state).toBe("success");
  });
});
