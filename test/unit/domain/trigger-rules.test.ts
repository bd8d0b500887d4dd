import { describe, expect, test } from "bun:test";
import { evaluateTriggerRule, TRIGGER_RULES, type TaskState, type TriggerDecision, type TriggerRule } from "../../../src/domain";

// Upstream mixes (columns of the table below).
const MIXES = {
  SS: ["success", "success"],
  SK: ["success", "skipped"],
  SF: ["success", "failed"],
  SU: ["success", "upstream_failed"],
  SR: ["success", "running"],
  KK: ["skipped", "skipped"],
  FF: ["failed", "failed"],
  FU: ["failed", "upstream_failed"],
  UU: ["upstream_failed", "upstream_failed"],
  FR: ["failed", "running"],
  KR: ["skipped", "running"],
  KF: ["skipped", "failed"],
  SY: ["success", "up_for_retry"],
  NN: ["none", "none"],
  SX: ["success", "removed"],
} satisfies Record<string, TaskState[]>;
type Mix = keyof typeof MIXES;
const COLUMNS = Object.keys(MIXES) as Mix[];

const s = "schedule",
  w = "wait",
  k = "skip",
  u = "upstream_failed";
type D = TriggerDecision;
// Airflow 3 TriggerRuleDep (flag_upstream_failed=True), one row per rule, columns in MIXES order:
//                                          SS SK SF SU SR KK FF FU UU FR KR KF SY NN SX
const TABLE: Record<TriggerRule, D[]> = {
  all_success: [s, k, u, u, w, k, u, u, u, u, k, u, w, w, w],
  all_failed: [k, k, k, k, k, k, s, s, s, w, k, k, k, w, k],
  all_done: [s, s, s, s, w, s, s, s, s, w, w, s, w, w, s],
  all_done_setup_success: [s, s, s, s, w, s, s, s, s, w, w, s, w, w, s],
  all_done_min_one_success: [s, k, s, s, w, k, u, u, u, w, k, k, w, w, s],
  all_skipped: [k, k, k, k, k, s, k, k, k, k, w, k, k, w, k],
  one_success: [s, s, s, s, s, k, u, u, u, w, w, u, s, w, s],
  one_failed: [k, k, s, s, w, k, s, s, s, s, w, s, w, w, k],
  one_done: [s, s, s, s, s, k, s, s, k, s, w, s, s, w, s],
  none_failed: [s, s, u, u, w, s, u, u, u, u, w, u, w, w, w],
  none_failed_min_one_success: [s, s, u, u, w, k, u, u, u, u, w, u, w, w, w],
  none_skipped: [s, k, s, s, w, k, s, s, s, w, k, k, w, w, s],
  always: [s, s, s, s, s, s, s, s, s, s, s, s, s, s, s],
};

describe("evaluateTriggerRule", () => {
  test("the table covers every rule", () => expect(Object.keys(TABLE).sort()).toEqual([...TRIGGER_RULES].sort()));

  const cases = TRIGGER_RULES.flatMap((rule) => COLUMNS.map((mix, i) => [rule, mix, TABLE[rule][i]!] as const));
  test.each(cases)("%s with %s -> %s", (rule, mix, expected) => {
    expect(evaluateTriggerRule(rule, MIXES[mix])).toBe(expected);
    // Order of upstreams never matters.
    expect(evaluateTriggerRule(rule, [...MIXES[mix]].reverse())).toBe(expected);
  });

  test.each([...TRIGGER_RULES])("%s: a task with no upstreams is scheduled", (rule) => {
    expect(evaluateTriggerRule(rule, [])).toBe("schedule");
  });

  test("decisions that do not wait for the remaining upstreams", () => {
    expect(evaluateTriggerRule("all_success", ["failed", "running", "none"])).toBe("upstream_failed");
    expect(evaluateTriggerRule("all_success", ["skipped", "queued"])).toBe("skip");
    expect(evaluateTriggerRule("none_failed", ["upstream_failed", "scheduled"])).toBe("upstream_failed");
    expect(evaluateTriggerRule("one_success", ["running", "success"])).toBe("schedule");
    expect(evaluateTriggerRule("one_failed", ["queued", "failed"])).toBe("schedule");
  });

  test("up_for_retry is not done: all_done and one_failed keep waiting", () => {
    expect(evaluateTriggerRule("all_done", ["failed", "up_for_retry"])).toBe("wait");
    expect(evaluateTriggerRule("one_failed", ["success", "up_for_retry"])).toBe("wait");
  });

  test("one_success that can no longer succeed: all skipped -> skip, any failure -> upstream_failed", () => {
    expect(evaluateTriggerRule("one_success", ["skipped", "skipped", "skipped"])).toBe("skip");
    expect(evaluateTriggerRule("one_success", ["skipped", "upstream_failed"])).toBe("upstream_failed");
  });
});
