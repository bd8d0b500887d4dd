/** The agent → executor control lines (user process group id, warm ready/done) and /proc stat parsing. Pure, as tables. */
import { expect, test } from "bun:test";
import { formatControlLine, parseControlLine } from "../../../src/agent";
import { parseProcStat } from "../../../src/executors";

test.each([
  [{ user_pgid: 4242 }],
  [{ ready: true as const }],
  [{ reporting: true as const }],
  [{ done: 0 }],
  [{ done: 2 }],
  [{ report: { state: "success", exitCode: 0, error: "", logFirstSeq: "3", logLines: [] }, report_id: 7 }],
])("control line %p round-trips", (msg) => {
  expect(parseControlLine(formatControlLine(msg).trimEnd())).toEqual(msg);
});

test.each([
  ["hello"],
  ["leoflow-control "],
  ["leoflow-control {not json"],
  ['leoflow-control {"user_pgid":"12"}'],
  // Never a signal to every process (-1) or to our own group (0).
  ['leoflow-control {"user_pgid":1}'],
  ['leoflow-control {"user_pgid":0}'],
  ['leoflow-control {"user_pgid":-5}'],
  ['leoflow-control {"ready":"yes"}'],
  ['leoflow-control {"done":-1}'],
  ['leoflow-control {"done":1.5}'],
  ['leoflow-control {"done":256}'],
  ['leoflow-control {"report":"success","report_id":1}'],
  ['leoflow-control {"report":{"state":"success"}}'],
  ['leoflow-control {"report":["success"],"report_id":1}'],
  ["leoflow-control null"],
])("%p is not a control line", (line) => expect(parseControlLine(line)).toBeNull());

test.each([
  ["123 (bash) S 1 123 123 0 -1", { state: "S", pgrp: 123 }],
  ["77 (a b) c)) Z 1 70 70 0", { state: "Z", pgrp: 70 }],
  ["garbage", null],
])("parseProcStat(%p)", (stat, want) => expect(parseProcStat(stat)).toEqual(want));
