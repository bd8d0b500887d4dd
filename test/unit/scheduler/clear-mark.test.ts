/** Marking task instances and runs by hand (planTaskMark, planRunMark): what one mark writes. */
import { describe, expect, test } from "bun:test";
import { ConflictError, NotFoundError } from "../../../src/domain";
import { planRun, planRunMark, planTaskMark, reapNotes, requeueAfterClear, userNote } from "../../../src/scheduler";
import { T0, apply, at, dag, run, states, tis } from "./helpers";

// extract → load → report; extract → audit (all_done)
const spec = dag([
  { task_id: "extract" },
  { task_id: "load", upstream: ["extract"], retries: 1 },
  { task_id: "report", upstream: ["load"] },
  { task_id: "audit", upstream: ["extract"], trigger_rule: "all_done" },
]);
const NOW = at(100);

describe("planTaskMark", () => {
  test("marking a failed task success clears its failed/upstream_failed downstream and requeues the finished run", () => {
    const rows = tis(spec, { extract: "success", load: { state: "failed", hostname: "w1" }, report: "upstream_failed", audit: "success" });
    const change = planTaskMark({ run: run("failed"), tis: rows, spec }, "load", "success", NOW, { note: "fixed by hand" });
    expect(change.transitions).toEqual([
      { id: 2, from: ["failed"], to: "success", try_number: 1, patch: { start_date: NOW, end_date: NOW } },
    ]);
    // The note is the user's, written apart from the system's reason (the transition's patch leaves that alone).
    expect(change.user_notes).toEqual([{ id: 2, note: "fixed by hand" }]);
    expect(change.clears).toEqual([{ id: 3, from: "upstream_failed", from_try: 1, try_number: 1, max_tries: 0 }]);
    expect(change.runs).toEqual([{ id: 1, from: ["failed"], to: "queued" }]);
  });

  test("a run whose outcome a mark changes drops the scheduler's note on its old end; a user's note stays", () => {
    const rows = tis(spec, { extract: "success", load: "success", report: "failed", audit: "success" });
    const noted = (note: string) => ({ ...run("failed"), note });
    expect(planTaskMark({ run: noted("task(s) failed: report"), tis: rows, spec }, "report", "success", NOW).runs).toEqual([
      { id: 1, from: ["failed"], to: "success", note: null },
    ]);
    expect(planTaskMark({ run: noted("rerun after the vendor fix"), tis: rows, spec }, "report", "success", NOW).runs).toEqual([
      { id: 1, from: ["failed"], to: "success" },
    ]);
    // A clear's requeue the same (found by hand: a cleared run that then succeeded still said "task(s) failed: each").
    // The reaper's note from its own function, so a change to its text cannot slip past the check.
    for (const note of [
      "task(s) failed: each",
      "task(s) upstream_failed: b",
      "deadlock: task(s) c can never start",
      "dagrun_timeout (60s) exceeded",
      reapNotes.orphaned(T0, 600_000),
    ])
      expect(requeueAfterClear(noted(note))).toEqual({ id: 1, from: ["failed"], to: "queued", note: null });
    expect(requeueAfterClear(noted("ask ada first"))).toEqual({ id: 1, from: ["failed"], to: "queued" });
  });

  test("marking a failed leaf success in a failed run with nothing to clear makes the run succeed", () => {
    const rows = tis(spec, { extract: "success", load: "success", report: "failed", audit: "success" });
    const change = planTaskMark({ run: run("failed"), tis: rows, spec }, "report", "success", NOW);
    expect(change.clears).toEqual([]);
    expect(change.runs).toEqual([{ id: 1, from: ["failed"], to: "success" }]);
  });

  test("marking a running task failed is final: its retries are spent, so the planner fails its downstream instead of retrying", () => {
    const rows = tis(spec, { extract: "success", load: { state: "running", start_date: T0 } });
    const change = planTaskMark({ run: run(), tis: rows, spec }, "load", "failed", NOW);
    expect(change).toEqual({
      transitions: [{ id: 2, from: ["running"], to: "failed", try_number: 1, patch: { start_date: T0, end_date: NOW, max_tries: 0 } }],
      clears: [],
    });
    const marked = apply(rows, change.transitions!, NOW);
    // load has retries: 1; a failure of its own would be up_for_retry here (Airflow: a mark is not a failure to retry).
    const plan = planRun({ run: run(), tis: marked, spec }, at(200));
    expect(states(apply(marked, plan.transitions, at(200)))).toMatchObject({ load: "failed", report: "upstream_failed" });
  });

  test("a task marked failed in a finished run stays failed when a clear of another task plans the run again", () => {
    const retrying = dag([
      { task_id: "extract", retries: 2 },
      { task_id: "load", upstream: ["extract"] },
    ]);
    const rows = tis(retrying, { extract: "success", load: "success" });
    const change = planTaskMark({ run: run("success"), tis: rows, spec: retrying }, "extract", "failed", NOW);
    expect(change.runs).toBeUndefined(); // its leaf still succeeded: the run's outcome stands
    // Then only load is cleared (its try reset to none) and the run queued again.
    const cleared = apply(rows, change.transitions!, NOW).map((r) => (r.task_id === "load" ? { ...r, state: "none" as const } : r));
    const plan = planRun({ run: run(), tis: cleared, spec: retrying }, at(200));
    expect(states(apply(cleared, plan.transitions, at(200)))).toEqual({ extract: "failed", load: "upstream_failed" });
  });

  test("a finished try keeps its dates when marked (Airflow's set_state), an unstarted one gets now for both", () => {
    const rows = tis(spec, { extract: { state: "success", start_date: T0, end_date: at(1) } });
    const [t] = planTaskMark({ run: run(), tis: rows, spec }, "extract", "failed", NOW).transitions!;
    expect(t!.patch).toMatchObject({ start_date: T0, end_date: at(1) });
    const [u] = planTaskMark({ run: run(), tis: tis(spec), spec }, "load", "skipped", NOW).transitions!;
    expect(u!.patch).toEqual({ start_date: NOW, end_date: NOW });
  });

  test("include_downstream marks relatives not yet in the state; they are then not cleared", () => {
    const rows = tis(spec, { extract: "failed", load: "upstream_failed", report: "upstream_failed", audit: "success" });
    const change = planTaskMark({ run: run("failed"), tis: rows, spec }, "extract", "success", NOW, { downstream: true });
    expect(change.transitions!.map((t) => [t.id, t.to])).toEqual([
      [1, "success"],
      [2, "success"],
      [3, "success"],
    ]);
    expect(change.clears).toEqual([]);
    expect(change.runs).toEqual([{ id: 1, from: ["failed"], to: "success" }]);
  });

  test("a task already in the state is a conflict, as in Airflow", () => {
    const rows = tis(spec, { extract: "success" });
    expect(() => planTaskMark({ run: run(), tis: rows, spec }, "extract", "success", NOW)).toThrow(
      new ConflictError("Task id extract is already in success state"),
    );
  });

  test("an unknown task is not found", () => {
    expect(() => planTaskMark({ run: run(), tis: tis(spec), spec }, "nope", "success", NOW)).toThrow(NotFoundError);
  });
});

describe("planRunMark", () => {
  const rows = tis(spec, { extract: "success", load: { state: "running", start_date: T0 }, report: "none", audit: "queued" });

  test("failed: running task instances fail, the other unfinished ones are skipped, the run fails", () => {
    const change = planRunMark({ run: run(), tis: rows, spec }, "failed", NOW, "stopped by ops");
    expect(change.transitions!.map((t) => [t.id, t.from[0], t.to])).toEqual([
      [2, "running", "failed"],
      [3, "none", "skipped"],
      [4, "queued", "skipped"],
    ]);
    expect(change.runs).toEqual([{ id: 1, from: ["running"], to: "failed", note: "stopped by ops" }]);
    expect(states(apply(rows, change.transitions!, NOW))).toEqual({
      extract: "success",
      load: "failed",
      report: "skipped",
      audit: "skipped",
    });
  });

  test("success: every task instance not in success succeeds (failed ones included), the run succeeds", () => {
    const failedRun = tis(spec, { extract: "success", load: "failed", report: "upstream_failed", audit: "skipped" });
    const change = planRunMark({ run: run("failed"), tis: failedRun, spec }, "success", NOW);
    expect(change.transitions!.map((t) => t.id)).toEqual([2, 3, 4]);
    expect(change.runs).toEqual([{ id: 1, from: ["failed"], to: "success" }]);
  });

  test("queued: only the run changes", () => {
    expect(planRunMark({ run: run("failed"), tis: rows, spec }, "queued", NOW)).toEqual({
      transitions: [],
      runs: [{ id: 1, from: ["failed"], to: "queued" }],
    });
  });

  test("marking a run into its own state changes no run state (a note alone is still written)", () => {
    expect(planRunMark({ run: run("queued"), tis: tis(spec), spec }, "queued", NOW).runs).toEqual([]);
    expect(planRunMark({ run: run("queued"), tis: tis(spec), spec }, "queued", NOW, "hi").runs).toEqual([
      { id: 1, from: ["queued"], to: "queued", note: "hi" },
    ]);
  });
});

describe("userNote", () => {
  test.each([
    ["text is kept as written", "  rerun after INC-7 \n", "  rerun after INC-7 \n"],
    ["null clears it", null, null],
    ["empty text clears it", "", null],
    ["blank text clears it", " \n\t", null],
  ])("%s", (_, note, want) => {
    expect(userNote(3, note)).toEqual({ id: 3, note: want });
  });
});
