/**
 * GET /api/v2/leoflow/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstanceStates: what the DAG page's grid draws of a
 * run's task instances, the same values as the task instance list's fields of those names, in its order and pages.
 */
import { describe, expect, test } from "bun:test";
import { etlRunStepping, forEachApiStore, NOW } from "./harness";

const FIELDS = ["task_id", "map_index", "state", "try_number", "max_tries", "start_date", "end_date", "duration"] as const;
const pick = (ti: Record<string, unknown>) => Object.fromEntries(FIELDS.map((f) => [f, ti[f]]));

forEachApiStore((makeHarness) => {
  const STATES = "/api/v2/leoflow/dags/etl/dagRuns/r1/taskInstanceStates";
  const T = (s: number) => new Date(NOW.getTime() + s * 1000);

  /** A run r1 of etl whose `extract` succeeded on its second try and whose `load` has not started. */
  async function halfDoneRun() {
    const h = await makeHarness();
    const { step } = await etlRunStepping(h);
    await step("none", "scheduled");
    await step("scheduled", "queued", { queued_at: T(1) });
    await step("queued", "running", { start_date: T(2), hostname: "w1", try_number: 2 });
    await step("running", "success", { end_date: T(5) });
    return h;
  }

  describe("task instance states", () => {
    test("the list's values for the grid's fields, and nothing else", async () => {
      const h = await halfDoneRun();
      const slim = await h.json("GET", STATES);
      const full = await h.json("GET", "/api/v2/dags/etl/dagRuns/r1/taskInstances");
      expect(slim.status).toBe(200);
      expect(slim.body.total_entries).toBe(2);
      expect(slim.body.task_instances).toEqual(full.body.task_instances.map(pick));
      expect(slim.body.task_instances[0]).toEqual({
        task_id: "extract",
        map_index: -1,
        state: "success",
        try_number: 2,
        max_tries: 2,
        start_date: T(2).toISOString(),
        end_date: T(5).toISOString(),
        duration: 3,
      });
      expect(slim.body.task_instances[1]).toMatchObject({ task_id: "load", state: null, start_date: null, duration: null });
    });

    test("pages as the list does; 404 for an unknown run or DAG; a bad limit is refused", async () => {
      const h = await halfDoneRun();
      const page = await h.json("GET", `${STATES}?limit=1&offset=1`);
      expect(page.body).toEqual({ task_instances: [expect.objectContaining({ task_id: "load" })], total_entries: 2 });
      expect((await h.json("GET", "/api/v2/leoflow/dags/etl/dagRuns/nope/taskInstanceStates")).status).toBe(404);
      expect((await h.json("GET", "/api/v2/leoflow/dags/nope/dagRuns/r1/taskInstanceStates")).status).toBe(404);
      expect((await h.json("GET", `${STATES}?limit=-1`)).status).toBe(422);
      // Pages of up to 10,000 (the list's stop at 1,000), the whole run by default; a larger limit is cut to it.
      for (const q of ["", "?limit=20000"]) expect((await h.json("GET", `${STATES}${q}`)).body.task_instances).toHaveLength(2);
    });
  });
});
