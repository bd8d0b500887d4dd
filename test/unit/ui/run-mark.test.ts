/** The Mark run dialog's preview (src/ui/app/run-mark.ts) says what the server's planRunMark then does, state by state. */
import { describe, expect, test } from "bun:test";
import { TASK_STATES } from "../../../src/domain";
import { planRunMark } from "../../../src/scheduler";
import { runMarkChanges } from "../../../src/ui/app/run-mark";
import { at, dag, run, tis } from "../scheduler/helpers";

// One task per state a task instance can be in, each its own task.
const spec = dag(TASK_STATES.map((s) => ({ task_id: `t_${s}` })));
const rows = tis(spec, Object.fromEntries(TASK_STATES.map((s) => [`t_${s}`, s])));

describe("runMarkChanges", () => {
  for (const state of ["success", "failed", "queued"] as const)
    test(`marking a run ${state}: the same task instances, to the same states, as the server`, () => {
      const server = (planRunMark({ run: run(), tis: rows, spec }, state, at(10)).transitions ?? []).map((t) => [
        rows.find((r) => r.id === t.id)?.task_id ?? "?",
        t.to,
      ]);
      const preview = runMarkChanges(
        rows.map((r) => ({ task_id: r.task_id, state: r.state === "none" ? null : r.state })),
        state,
      ).map(({ ti, to }) => [ti.task_id, to]);
      expect(preview).toEqual(server);
    });
});
