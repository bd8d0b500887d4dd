/** The Prometheus text format, written by hand. */
import { expect, test } from "bun:test";
import { Metrics, formatLabels } from "../../../src/observability";

test("counters with labels, gauges read at scrape time, in registration order", () => {
  const m = new Metrics();
  const reaped = m.counter("leoflow_reaped_total", "Reaped, by reason.", ["reason"]);
  reaped.inc({ reason: "agent_lost" });
  reaped.inc({ reason: "agent_lost" }, 2);
  reaped.inc({ reason: "orphaned" });
  let subs = 1;
  m.gauge("leoflow_event_subscribers", "Open event streams.", () => subs);
  subs = 4;
  expect(m.render()).toBe(
    [
      "# HELP leoflow_reaped_total Reaped, by reason.",
      "# TYPE leoflow_reaped_total counter",
      'leoflow_reaped_total{reason="agent_lost"} 3',
      'leoflow_reaped_total{reason="orphaned"} 1',
      "# HELP leoflow_event_subscribers Open event streams.",
      "# TYPE leoflow_event_subscribers gauge",
      "leoflow_event_subscribers 4",
      "",
    ].join("\n"),
  );
  expect(reaped.get({ reason: "agent_lost" })).toBe(3);
});

test("label values are escaped; bad names, duplicate names and missing labels are refused", () => {
  expect(formatLabels({ a: 'x"y\\z\nw' })).toBe('{a="x\\"y\\\\z\\nw"}');
  const m = new Metrics();
  expect(() => m.counter("bad-name", "x")).toThrow("not a valid Prometheus name");
  const c = m.counter("ok_total", "x", ["reason"]);
  expect(() => m.counter("ok_total", "x")).toThrow("registered twice");
  expect(() => c.inc({})).toThrow("needs label(s) reason");
});

test("a gauge whose reader throws is left out of the scrape", () => {
  const m = new Metrics();
  m.gauge("broken", "x", () => {
    throw new Error("no");
  });
  m.gauge("fine", "x", () => 1);
  expect(m.render()).toBe("# HELP fine x\n# TYPE fine gauge\nfine 1\n");
});

test("a histogram: cumulative le buckets, +Inf, _sum and _count per label set", () => {
  const m = new Metrics();
  const h = m.histogram("leoflow_task_duration_seconds", "Try duration.", ["operator"], [1, 5]);
  h.observe({ operator: "bash" }, 0.5);
  h.observe({ operator: "bash" }, 3);
  h.observe({ operator: "bash" }, 60);
  h.observe({ operator: "http" }, 1);
  expect(m.render()).toBe(
    [
      "# HELP leoflow_task_duration_seconds Try duration.",
      "# TYPE leoflow_task_duration_seconds histogram",
      'leoflow_task_duration_seconds_bucket{operator="bash",le="1"} 1',
      'leoflow_task_duration_seconds_bucket{operator="bash",le="5"} 2',
      'leoflow_task_duration_seconds_bucket{operator="bash",le="+Inf"} 3',
      'leoflow_task_duration_seconds_sum{operator="bash"} 63.5',
      'leoflow_task_duration_seconds_count{operator="bash"} 3',
      'leoflow_task_duration_seconds_bucket{operator="http",le="1"} 1',
      'leoflow_task_duration_seconds_bucket{operator="http",le="5"} 1',
      'leoflow_task_duration_seconds_bucket{operator="http",le="+Inf"} 1',
      'leoflow_task_duration_seconds_sum{operator="http"} 1',
      'leoflow_task_duration_seconds_count{operator="http"} 1',
      "",
    ].join("\n"),
  );
  expect(h.count({ operator: "bash" })).toBe(3);
  expect(() => h.observe({}, 1)).toThrow("needs label(s) operator");
});

test("scrape() runs the collectors first; one that fails leaves its previous values", async () => {
  const m = new Metrics();
  let runs = 0;
  let fail = false;
  m.beforeScrape(async () => {
    if (fail) throw new Error("database away");
    runs = 7;
  });
  m.gauge("leoflow_dag_runs", "Runs.", () => runs);
  expect(await m.scrape()).toContain("leoflow_dag_runs 7\n");
  fail = true;
  runs = 7;
  expect(await m.scrape()).toContain("leoflow_dag_runs 7\n");
});
