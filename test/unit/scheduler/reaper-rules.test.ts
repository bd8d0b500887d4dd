import { describe, expect, test } from "bun:test";
import { isAgentLost, isDispatchLost, isOrphaned, reapDue, reapEveryMs } from "../../../src/scheduler";

const NOW = new Date("2026-01-01T12:00:00Z");
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const THRESHOLD = 60_000;

// [what, timestamp, expected for agent_lost/dispatch_lost, expected for orphaned]
const CASES = [
  ["never stamped (null)", null, false, true],
  ["fresh", ago(1_000), false, false],
  ["exactly at the threshold", ago(THRESHOLD), false, false],
  ["one ms past the threshold", ago(THRESHOLD + 1), true, true],
  ["long silent", ago(3_600_000), true, true],
  ["in the future (clock skew)", ago(-3_600_000), false, false],
] as const;

describe.each(CASES)("%s", (_what, stamp, lost, orphaned) => {
  test("isAgentLost", () => expect(isAgentLost({ lastHeartbeat: stamp }, THRESHOLD, NOW)).toBe(lost));
  test("isDispatchLost", () => expect(isDispatchLost({ queuedAt: stamp }, THRESHOLD, NOW)).toBe(lost));
  test("isOrphaned", () => expect(isOrphaned({ lastActivity: stamp }, THRESHOLD, NOW)).toBe(orphaned));
});

test("a zero threshold still spares null and future stamps", () => {
  expect(isAgentLost({ lastHeartbeat: null }, 0, NOW)).toBe(false);
  expect(isDispatchLost({ queuedAt: ago(-1) }, 0, NOW)).toBe(false);
  expect(isAgentLost({ lastHeartbeat: ago(1) }, 0, NOW)).toBe(true);
});

describe("how often the reapers read", () => {
  test("a sixth of the shortest threshold, at most 10 s", () => {
    expect(reapEveryMs({ agentLostAfterMs: 60_000, dispatchLostAfterMs: 300_000, orphanAfterMs: 600_000 })).toBe(10_000);
    expect(reapEveryMs({ agentLostAfterMs: 3_000, dispatchLostAfterMs: 300_000, orphanAfterMs: 600_000 })).toBe(500);
    expect(reapEveryMs({ agentLostAfterMs: 600_000, dispatchLostAfterMs: 12_000, orphanAfterMs: 600_000 })).toBe(2_000);
  });

  test("due on the first sweep, then once `everyMs` has passed, and at once after the clock went back", () => {
    const at = NOW.getTime();
    expect(reapDue(null, 10_000, NOW)).toBe(true);
    expect(reapDue(at - 9_999, 10_000, NOW)).toBe(false);
    expect(reapDue(at - 10_000, 10_000, NOW)).toBe(true);
    expect(reapDue(at + 5_000, 10_000, NOW)).toBe(true);
    expect(reapDue(at, 0, NOW)).toBe(true);
  });
});
