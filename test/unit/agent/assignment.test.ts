/**
 * The executor → warm agent try assignment: a try's own values only (and Register's answer when the server
 * registered the try), as one JSON line. Pure, as tables.
 */
import { expect, test } from "bun:test";
import { formatAssignment, parseAssignment } from "../../../src/agent";
import { formatReportAnswer, parseReportAnswer } from "../../../src/agent/assignment";
import { MAX_LINE_BYTES } from "../../../src/agent/line-splitter";

const own = { LEOFLOW_AGENT_TOKEN: "tok", LEOFLOW_SERVER: "http://127.0.0.1:8080" };

test("an assignment round-trips as one line", () => {
  const line = formatAssignment({ ...own, LEOFLOW_STAGING_DIR: "/s" });
  expect(line.endsWith("\n")).toBe(true);
  expect(line.trimEnd()).not.toContain("\n");
  expect(parseAssignment(line.trimEnd())).toEqual({ ok: true, own: { ...own, LEOFLOW_STAGING_DIR: "/s" } });
});

test("Register's answer rides along as JSON: its type name left out, 64-bit numbers as text", () => {
  const answer = { $typeName: "leoflow.agent.v1.RegisterResponse", tryNumber: 1, spec: { logSeqStart: 12n, env: { A: "1" } } };
  const line = formatAssignment(own, answer);
  expect(line.trimEnd()).not.toContain("\n");
  expect(parseAssignment(line.trimEnd())).toEqual({
    ok: true,
    own,
    registered: { tryNumber: 1, spec: { logSeqStart: "12", env: { A: "1" } } },
  });
});

test("an answer that would not fit the agent's line is left out: that agent registers itself", () => {
  const big = { spec: { taskJson: "x".repeat(MAX_LINE_BYTES) } };
  expect(parseAssignment(formatAssignment(own, big).trimEnd())).toEqual({ ok: true, own });
});

test.each([
  [{ ok: true as const, answer: { state: "success" }, id: 1 }],
  [{ ok: true as const, answer: {}, id: 2 }],
  [{ ok: false as const, code: "failed_precondition", message: "try 2 of etl/r1/load is now failed", id: 3 }],
])("a report's answer %p round-trips, and is not an assignment", (a) => {
  const line = formatReportAnswer(a).trimEnd();
  expect(parseReportAnswer(line)).toEqual(a);
  expect(parseAssignment(line).ok).toBe(false);
});

test.each([
  [formatAssignment(own).trimEnd()],
  ['{"report_answer":"success"}'],
  ['{"report_error":{"code":"internal"}}'],
  ['{"report_answer":{"state":'],
  ['{"report_answer":{"state":"success"}}'],
  ['{"report_answer":{"state":"success"},"report_id":"1"}'],
])("%p is not a report's answer", (line) => expect(parseReportAnswer(line)).toBeNull());

test.each([
  ['{"LEOFLOW_AGENT_TOKEN":"t","LEOFLOW_SERVER":"http://x","registered":"x"}', "registered must be a JSON object (Register's answer)"],
  ["{not json", "a try assignment must be one line of JSON"],
  ['["x"]', "a try assignment must be a JSON object"],
  ['{"LEOFLOW_SERVER":"http://x"}', "a try assignment needs LEOFLOW_AGENT_TOKEN"],
  ['{"LEOFLOW_AGENT_TOKEN":"t","LEOFLOW_SERVER":""}', "a try assignment needs LEOFLOW_SERVER"],
  ['{"LEOFLOW_AGENT_TOKEN":1,"LEOFLOW_SERVER":"http://x"}', "LEOFLOW_AGENT_TOKEN must be a string"],
  // The line carries a try's own values, never other variables for the user process.
  [
    '{"LEOFLOW_AGENT_TOKEN":"t","LEOFLOW_SERVER":"http://x","AWS_SECRET_ACCESS_KEY":"k"}',
    "AWS_SECRET_ACCESS_KEY is not a try's own value (expected LEOFLOW_AGENT_TOKEN, LEOFLOW_SERVER, LEOFLOW_STAGING_DIR)",
  ],
])("%p is refused: %s", (line, error) => expect(parseAssignment(line)).toEqual({ ok: false, error }));
