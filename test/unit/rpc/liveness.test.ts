import { expect, test } from "bun:test";
import { notLiveReason, renewalDue, type Caller } from "../../../src/rpc/caller";
import type { TaskInstanceRecord } from "../../../src/domain";

const caller = (state: TaskInstanceRecord["state"], tiTry: number, tokenTry = 1): Caller => ({
  id: { tiId: 1, tryNumber: tokenTry, dagId: "etl", runId: "r", taskId: "t" },
  expiresAt: new Date(0),
  ti: { state, try_number: tiTry } as TaskInstanceRecord,
});

test("a try is live while queued or running on the token's try", () => {
  expect(notLiveReason(caller("queued", 1))).toBeNull();
  expect(notLiveReason(caller("running", 1))).toBeNull();
});

test("a finished try is not live, whatever it ended in", () => {
  for (const s of ["success", "failed", "skipped", "up_for_retry", "upstream_failed", "removed", "none", "scheduled"] as const)
    expect(notLiveReason(caller(s, 1))).toBe(`task instance etl/r/t try 1 is ${s}, no longer queued or running`);
});

test("a superseded try is not live even while the next one runs", () => {
  expect(notLiveReason(caller("running", 2))).toBe("task instance etl/r/t is on try 2 (running); this token's try 1 is over");
});

test("a heartbeat renews a renewable token once it is past half its life, and no other", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  const id = { tiId: 1, tryNumber: 1, dagId: "etl", runId: "r", taskId: "t" };
  const left = (s: number) => new Date(now.getTime() + s * 1000);
  expect(renewalDue({ id: { ...id, renewable: true }, expiresAt: left(1801) }, now, 3600)).toBe(false);
  expect(renewalDue({ id: { ...id, renewable: true }, expiresAt: left(1799) }, now, 3600)).toBe(true);
  // A task with an execution_timeout keeps its deadline; a server without renewal never renews.
  expect(renewalDue({ id, expiresAt: left(10) }, now, 3600)).toBe(false);
  expect(renewalDue({ id: { ...id, renewable: true }, expiresAt: left(10) }, now, undefined)).toBe(false);
});
