/** The agent → executor control line (user process group id) and /proc stat parsing. Pure, as tables. */
import { expect, test } from "bun:test";
import { formatControlLine, parseControlLine } from "../../../src/agent";
import { parseProcStat } from "../../../src/executors";

test("a control line round-trips", () => {
  expect(parseControlLine(formatControlLine({ user_pgid: 4242 }).trimEnd())).toEqual({ user_pgid: 4242 });
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
])("%p is not a control line", (line) => expect(parseControlLine(line)).toBeNull());

test.each([
  ["123 (bash) S 1 123 123 0 -1", { state: "S", pgrp: 123 }],
  ["77 (a b) c)) Z 1 70 70 0", { state: "Z", pgrp: 70 }],
  ["garbage", null],
])("parseProcStat(%p)", (stat, want) => expect(parseProcStat(stat)).toEqual(want));
