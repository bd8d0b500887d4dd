/**
 * The compiled binary calls a DAG's callbacks (an http request to a local receiver, an e-mail to a local SMTP
 * server: nodemailer is bundled and loaded on first use; a ts function in a child of the binary) and serves
 * /metrics that an independent Prometheus text-format parser reads, with the task, scheduler, run and
 * callback series filled by the run.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { startSmtpSink } from "../support/smtp-sink";
import { startLeoflow, waitFor, waitForRun, type Leoflow } from "./harness";

let lf: Leoflow;
let receiver: ReturnType<typeof Bun.serve>;
let sink: Awaited<ReturnType<typeof startSmtpSink>>;
let marker = "";
const hits: { path: string; body: string }[] = [];

beforeAll(async () => {
  receiver = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      hits.push({ path: new URL(req.url).pathname, body: await req.text() });
      return new Response("ok");
    },
  });
  sink = await startSmtpSink();
  const dir = mkdtempSync(join(tmpdir(), "leoflow-e2e-callbacks-"));
  mkdirSync(join(dir, "dags", "_callbacks"), { recursive: true });
  marker = join(dir, "ts-callback.json");
  // Under a "_" folder: a helper module, not scanned as a DAG file.
  writeFileSync(
    join(dir, "dags", "_callbacks", "hooks.ts"),
    `import { writeFileSync } from "node:fs";\nexport function onRunFailed(ctx) { writeFileSync(${JSON.stringify(marker)}, JSON.stringify(ctx)); }\n`,
  );
  writeFileSync(
    join(dir, "dags", "alerting.json"),
    JSON.stringify({
      dag_id: "alerting",
      is_paused_upon_creation: false,
      on_failure_callback: [
        { ts: "_callbacks/hooks.ts:onRunFailed" },
        { notifier: "smtp", connection_id: "mail", to: "oncall@example.test", subject: "{{ dag_id }} failed", message: "see {{ run_id }}" },
      ],
      tasks: [
        {
          task_id: "ok",
          operator: "bash",
          bash_command: "true",
          on_success_callback: { http: { method: "POST", url: "{{ var.hook }}/ok/{{ task.task_id }}" } },
        },
        {
          task_id: "boom",
          operator: "bash",
          bash_command: "exit 3",
          upstream: ["ok"],
          on_failure_callback: { http: { method: "POST", url: "{{ var.hook }}/failed", json: { task: "{{ task.task_id }}" } } },
        },
      ],
    }),
  );
  lf = await startLeoflow({ dir });
  const created = await Promise.all([
    lf.api("POST", "/api/v2/variables", { key: "hook", value: `http://127.0.0.1:${receiver.port}` }),
    lf.api("POST", "/api/v2/connections", {
      connection_id: "mail",
      conn_type: "smtp",
      host: "127.0.0.1",
      port: sink.port,
      extra: '{"from":"leoflow@example.test"}',
    }),
  ]);
  expect(created.map((r) => r.status)).toEqual([201, 201]);
}, 30_000);
afterAll(async () => {
  await lf?.stop();
  receiver?.stop(true);
  await sink?.close();
});

test("a failing run calls its task and DAG callbacks: http to the receiver, an e-mail to the SMTP server", async () => {
  expect((await lf.api("POST", "/api/v2/dags/alerting/dagRuns", { dag_run_id: "r1", logical_date: null })).status).toBe(200);
  expect((await waitForRun(lf, "alerting", "r1")).state).toBe("failed");
  await waitFor(
    () => hits.length >= 2 && sink.messages.length >= 1,
    20_000,
    () => `callbacks not delivered: ${JSON.stringify(hits)}\n${lf.output()}`,
  );
  expect(hits.map((h) => h.path).sort()).toEqual(["/failed", "/ok/ok"]);
  expect(JSON.parse(hits.find((h) => h.path === "/failed")!.body)).toEqual({ task: "boom" });
  expect(sink.messages).toHaveLength(1);
  expect(sink.messages[0]!.to).toEqual(["oncall@example.test"]);
  expect(sink.messages[0]!.raw).toContain("Subject: alerting failed");
  expect(sink.messages[0]!.raw).toContain("see r1");
  // The ts callback ran in a child of the binary (its TypeScript import included).
  await waitFor(
    () => existsSync(marker),
    20_000,
    () => `ts callback did not run:\n${lf.output()}`,
  );
  expect(JSON.parse(readFileSync(marker, "utf8"))).toMatchObject({
    kind: "on_failure_callback",
    dag_id: "alerting",
    run_id: "r1",
    task_id: null,
  });
}, 60_000);

test("/metrics parses as Prometheus text and carries the run's task, scheduler, run and callback series", async () => {
  const res = await fetch(`${lf.url}/metrics`);
  expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  const text = await res.text();
  // The parser throws on any line that is not valid exposition text.
  const families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
  const sample = (name: string, labels: Record<string, string> = {}) =>
    families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  const type = (name: string) => families.get(name)?.type;
  // The parser folds a histogram's buckets into one object per family, dropping its other labels and
  // _count: with one operator in the run, "+Inf" is that operator's count (and the raw line is checked too).
  const observations = (name: string) => families.get(name)?.metrics[0]?.buckets?.["+Inf"];

  expect(type("leoflow_task_instances_finished_total")).toBe("COUNTER");
  expect(sample("leoflow_task_instances_finished_total", { state: "success", operator: "bash" })?.value).toBe("1");
  expect(sample("leoflow_task_instances_finished_total", { state: "failed", operator: "bash" })?.value).toBe("1");
  expect(type("leoflow_task_duration_seconds")).toBe("HISTOGRAM");
  expect(observations("leoflow_task_duration_seconds")).toBe("2");
  expect(text).toContain('leoflow_task_duration_seconds_count{operator="bash"} 2\n');
  expect(observations("leoflow_task_queued_to_running_seconds")).toBe("2");
  expect(text).toContain('leoflow_task_queued_to_running_seconds_count{operator="bash"} 2\n');
  expect(type("leoflow_scheduler_tick_duration_seconds")).toBe("HISTOGRAM");
  expect(Number(sample("leoflow_scheduler_tick_duration_seconds")?.count)).toBeGreaterThan(0);
  // Two tasks handed to the executor: by a tick, or by their upstream's report (a chain's hand-off).
  const dispatched = Number(sample("leoflow_scheduler_decisions_total", { decision: "dispatch" })?.value);
  expect(dispatched + Number(sample("leoflow_scheduler_chain_handoffs_total")?.value ?? 0)).toBeGreaterThanOrEqual(2);
  expect(sample("leoflow_dag_runs", { state: "failed" })?.value).toBe("1");
  expect(sample("leoflow_pool_slots", { pool: "default_pool", state: "used" })?.value).toBe("0");
  expect(sample("leoflow_pool_slots", { pool: "default_pool", state: "open" })?.value).toBe("128");
  expect(sample("leoflow_leader")?.value).toBe("1");
  expect(sample("leoflow_inline_requests_in_flight")?.value).toBe("0");
  expect(type("leoflow_webhook_deliveries_total")).toBe("COUNTER");
  expect(sample("leoflow_callbacks_total", { kind: "on_failure_callback", result: "ok" })?.value).toBe("3");
  expect(sample("leoflow_callbacks_total", { kind: "on_success_callback", result: "ok" })?.value).toBe("1");
  // The older series are still there.
  expect(families.has("leoflow_dispatch_queue_depth")).toBe(true);
  expect(families.has("leoflow_inline_tasks_running")).toBe(true);

  // Every series the Grafana dashboard queries is one this server exposes (a renamed series breaks this).
  const dashboard = JSON.parse(readFileSync(join(import.meta.dir, "../../deploy/grafana/leoflow-dashboard.json"), "utf8"));
  const queried = new Set<string>(
    dashboard.panels.flatMap((p: { targets: { expr: string }[] }) =>
      p.targets.flatMap((t) => [...t.expr.matchAll(/leoflow_[a-z_]+/g)].map((m) => m[0].replace(/_bucket$/, ""))),
    ),
  );
  expect(queried.size).toBeGreaterThanOrEqual(10);
  expect([...queried].filter((name) => !families.has(name))).toEqual([]);
});
