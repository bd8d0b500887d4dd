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
