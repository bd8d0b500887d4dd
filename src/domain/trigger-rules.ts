/**
 * Trigger rules: what a task whose own state is `none` should do, given its direct upstreams' states.
 * Semantics follow Airflow 3's TriggerRuleDep with flag_upstream_failed on (the scheduler's mode): a rule
 * that can no longer be met decides skip or upstream_failed at once, without waiting for the rest.
 */
import type { TaskState } from "./states";
import type { TriggerRule } from "./trigger-rule-names";

export type TriggerDecision = "wait" | "schedule" | "skip" | "upstream_failed";

/** Upstream states that count as done (Airflow's State.finished). up_for_retry is not done: it runs again. */
const DONE: ReadonlySet<TaskState> = new Set(["success", "failed", "skipped", "upstream_failed", "removed"]);

interface Counts {
  upstream: number;
  done: number;
  success: number;
  skipped: number;
  failed: number;
  upstream_failed: number;
  removed: number;
}

function count(upstream: readonly TaskState[]): Counts {
  const c: Counts = { upstream: upstream.length, done: 0, success: 0, skipped: 0, failed: 0, upstream_failed: 0, removed: 0 };
  for (const s of upstream) {
    if (DONE.has(s)) c.done++;
    if (s === "success") c.success++;
    else if (s === "skipped") c.skipped++;
    else if (s === "failed") c.failed++;
    else if (s === "upstream_failed") c.upstream_failed++;
    else if (s === "removed") c.removed++;
  }
  return c;
}

type Rule = (c: Counts) => TriggerDecision;

const allDone: Rule = (c) => (c.done === c.upstream ? "schedule" : "wait");

/** Each rule: first the "can never be met" checks (skip / upstream_failed), then the "met" check. */
const RULES: Record<TriggerRule, Rule> = {
  all_success: (c) =>
    c.failed || c.upstream_failed ? "upstream_failed" : c.skipped ? "skip" : c.success === c.upstream ? "schedule" : "wait",
  all_failed: (c) => (c.success || c.skipped ? "skip" : c.failed + c.upstream_failed === c.upstream ? "schedule" : "wait"),
  all_done: allDone,
  // We have no setup/teardown tasks, so "all setups succeeded" holds vacuously: this is all_done.
  all_done_setup_success: allDone,
  all_done_min_one_success: (c) => {
    // Airflow: a skipped upstream is not "done" for this rule, and it skips the task at once.
    if (c.skipped) return "skip";
    const nonSkippedDone = c.success + c.failed + c.upstream_failed + c.removed;
    if (nonSkippedDone < c.upstream) return "wait";
    return c.success ? "schedule" : "upstream_failed";
  },
  all_skipped: (c) => (c.success || c.failed || c.upstream_failed ? "skip" : c.skipped === c.upstream ? "schedule" : "wait"),
  one_success: (c) => {
    if (c.success) return "schedule";
    if (c.done < c.upstream) return "wait";
    return c.done === c.skipped ? "skip" : "upstream_failed";
  },
  one_failed: (c) => (c.failed || c.upstream_failed ? "schedule" : c.done === c.upstream ? "skip" : "wait"),
  one_done: (c) => (c.success || c.failed ? "schedule" : c.done === c.upstream ? "skip" : "wait"),
  none_failed: (c) => (c.failed || c.upstream_failed ? "upstream_failed" : c.success + c.skipped === c.upstream ? "schedule" : "wait"),
  none_failed_min_one_success: (c) =>
    c.failed || c.upstream_failed
      ? "upstream_failed"
      : c.skipped === c.upstream
        ? "skip"
        : c.success + c.skipped === c.upstream
          ? "schedule"
          : "wait",
  none_skipped: (c) => (c.skipped ? "skip" : c.done === c.upstream ? "schedule" : "wait"),
  always: () => "schedule",
};

/**
 * Decides a `none` task's fate from its trigger rule and its direct upstreams' current states.
 * A task with no upstreams is always scheduled. Pass *effective* states: a failed upstream that will be
 * retried must be given as `up_for_retry` (not done), or downstream tasks would give up on it too early.
 * An upstream that is `removed` counts as done but never as a success, as in Airflow, so e.g. all_success
 * waits on it forever; the planner reports such a run as deadlocked.
 *
 * @example evaluateTriggerRule("all_success", ["success", "skipped"]) // "skip"
 */
export function evaluateTriggerRule(rule: TriggerRule, upstream: readonly TaskState[]): TriggerDecision {
  if (upstream.length === 0) return "schedule";
  const decide = RULES[rule];
  if (!decide) throw new Error(`unknown trigger rule "${rule}"`);
  return decide(count(upstream));
}
