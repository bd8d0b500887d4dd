import { describe, expect, test } from "bun:test";
import {
  assertDagRunTransition,
  assertTransition,
  canTransition,
  canTransitionDagRun,
  DAG_RUN_STATES,
  IllegalTransitionError,
  TASK_STATES,
  type DagRunState,
  type TaskState,
} from "../../../src/domain";

// The expected machine, written out independently of the implementation's table: every allowed pair.
// Manual marking (success, failed, skipped) is allowed from every other state.
const MANUAL = ["success", "failed", "skipped"];
const ALLOWED: Record<TaskState, string[]> = {
  none: ["scheduled", "upstream_failed", "removed", ...MANUAL],
  scheduled: ["queued", "running", "deferred", "none", "upstream_failed", "removed", ...MANUAL],
  queued: ["running", "scheduled", "none", "up_for_retry", ...MANUAL],
  // queued: a try started with its upstream's end for a warm agent that could not be launched goes back.
  running: ["up_for_retry", "up_for_reschedule", "queued", "none", ...MANUAL],
  failed: ["up_for_retry", "none", ...MANUAL],
  up_for_retry: ["none", "removed", ...MANUAL],
  success: ["none", ...MANUAL],
  skipped: ["none", ...MANUAL],
  upstream_failed: ["none", ...MANUAL],
  removed: ["none", ...MANUAL],
  up_for_reschedule: ["scheduled", "none", "removed", ...MANUAL],
  deferred: ["none", "removed", ...MANUAL],
};

describe("task instance transitions", () => {
  const pairs = TASK_STATES.flatMap((from) => TASK_STATES.map((to) => [from, to] as const));
  test("covers all 144 pairs", () => expect(pairs.length).toBe(144));

  test.each(pairs)("%s -> %s", (from, to) => {
    const expected = from !== to && ALLOWED[from].includes(to);
    expect(canTransition(from, to)).toBe(expected);
    if (expected) expect(() => assertTransition(from, to)).not.toThrow();
    else expect(() => assertTransition(from, to)).toThrow(IllegalTransitionError);
  });

  test("manual marking is allowed from every state", () => {
    for (const from of TASK_STATES) for (const to of MANUAL as TaskState[]) if (from !== to) expect(canTransition(from, to)).toBe(true);
  });

  test("the error names the transition", () => {
    expect(() => assertTransition("none", "running")).toThrow("illegal task instance transition none -> running");
  });
});

describe("dag run transitions", () => {
  const ALLOWED_RUN: Record<DagRunState, DagRunState[]> = {
    queued: ["running", "success", "failed"],
    running: ["success", "failed", "queued"],
    success: ["queued", "failed"],
    failed: ["queued", "success"],
  };
  const pairs = DAG_RUN_STATES.flatMap((from) => DAG_RUN_STATES.map((to) => [from, to] as const));

  test.each(pairs)("%s -> %s", (from, to) => {
    const expected = ALLOWED_RUN[from].includes(to);
    expect(canTransitionDagRun(from, to)).toBe(expected);
    if (!expected) expect(() => assertDagRunTransition(from, to)).toThrow(`illegal dag run transition ${from} -> ${to}`);
  });
});
