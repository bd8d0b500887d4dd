/** Which slots a backfill skips: Airflow's reprocess_behavior rule, worked out before the store is asked. */
import { describe, expect, test } from "bun:test";
import { backfillSkips } from "../../../src/scheduler";

describe("backfillSkips", () => {
  test.each([
    ["none", { queued: "in flight", running: "in flight", success: "already exists", failed: "already exists" }],
    ["failed", { queued: "in flight", running: "in flight", success: "already exists" }],
    ["completed", { queued: "in flight", running: "in flight" }],
  ] as const)("reprocess_behavior %s skips slots whose latest run is in these states, for these reasons", (behavior, skips) => {
    expect(backfillSkips(behavior)).toEqual(skips);
  });
});
