/**
 * A run's task instances with only what the DAG page's grid and graph draw (task id, map index, state, try, tries
 * allowed, start, end, duration). The list's TaskInstanceResponse is ~960 bytes of JSON a task instance, with its
 * DAG version and a UUID for each; these are ~180.
 * - GET /api/v2/leoflow/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstanceStates: every task instance, in the task
 *   instance list's order, in pages of up to MAX_STATES_PAGE.
 * - GET /api/v2/leoflow/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstanceSummaries: one per task, what the page reads
 *   (domain/task-summaries.ts): a mapped task's instances folded into their count and states, so a task mapped over
 *   10,000 items is one entry, read from Postgres or SQLite as a row per state.
 * - GET /api/v2/leoflow/dags/{dag_id}/taskInstanceSummaries?dag_run_id=…&task_id=…: the same for some tasks of some
 *   runs at once: the rows a wide DAG's grid shows (up to MAX_WINDOW_RUNS runs × MAX_WINDOW_TASKS tasks).
 */
import { Hono } from "hono";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { getDagOr404, getDagRunOr404 } from "./lookups";
import { serializeTaskInstanceState } from "./serialize";
import { teamOf } from "./team";
import { pageLimit, pagingQuery, parseQuery } from "./validate";
import { lazySchema, summarizeTaskInstances, type TaskInstanceSummary } from "../domain";
import { z } from "zod";

/**
 * Larger pages than the list's 1,000: each page of a run is a read that orders the whole run (and counts it), so a
 * 10,000-task run in one page is one of them instead of ten.
 */
export const MAX_STATES_PAGE = 10_000;

export const TaskInstanceStatesQuery = lazySchema(() =>
  z.object({ limit: pageLimit(MAX_STATES_PAGE, MAX_STATES_PAGE), offset: pagingQuery.offset }),
);

/** The most runs and tasks one window read names: the DAG page shows up to 100 runs, and a screen of rows. */
export const MAX_WINDOW_RUNS = 100;
export const MAX_WINDOW_TASKS = 1_000;

export const TaskInstanceWindowQuery = lazySchema(() =>
  z.object({
    dag_run_id: z
      .array(z.string().min(1))
      .min(1, "name at least one run: ?dag_run_id=…")
      .max(MAX_WINDOW_RUNS, `at most ${MAX_WINDOW_RUNS} runs a read`),
    task_id: z
      .array(z.string().min(1))
      .max(MAX_WINDOW_TASKS, `at most ${MAX_WINDOW_TASKS} tasks a read; read a wide DAG's rows a screen at a time`)
      .optional(),
  }),
);

export function taskInstanceStateRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();
  app.get("/leoflow/dags/:dag_id/dagRuns/:dag_run_id/taskInstanceStates", async (c) => {
    const dagId = c.req.param("dag_id");
    const runId = c.req.param("dag_run_id");
    const q = parseQuery(c, TaskInstanceStatesQuery);
    await getDagRunOr404(store, teamOf(c), dagId, runId);
    const page = await store.findTaskInstances(teamOf(c), { dag_id: dagId, run_id: runId, limit: q.limit, offset: q.offset });
    return c.json({ task_instances: page.items.map(serializeTaskInstanceState), total_entries: page.total });
  });
  /** A run's summaries as answered (all its tasks, or those of `taskIds`). */
  const summariesOf = async (dagRunId: number, taskIds?: readonly string[]) =>
    summarizeTaskInstances(await store.readTaskInstanceSummaries(dagRunId, taskIds)).map(serializeSummary);
  app.get("/leoflow/dags/:dag_id/dagRuns/:dag_run_id/taskInstanceSummaries", async (c) => {
    const run = await getDagRunOr404(store, teamOf(c), c.req.param("dag_id"), c.req.param("dag_run_id"));
    const summaries = await summariesOf(run.id);
    return c.json({ task_instances: summaries, total_entries: summaries.length });
  });
  app.get("/leoflow/dags/:dag_id/taskInstanceSummaries", async (c) => {
    const q = parseQuery(c, TaskInstanceWindowQuery, ["dag_run_id", "task_id"]);
    const dag = await getDagOr404(store, teamOf(c), c.req.param("dag_id"));
    const runs = await Promise.all([...new Set(q.dag_run_id)].map((id) => getDagRunOr404(store, dag.team, dag.dag_id, id)));
    const dagRuns = await Promise.all(
      runs.map(async (run) => ({ dag_run_id: run.run_id, task_instances: await summariesOf(run.id, q.task_id) })),
    );
    return c.json({ dag_runs: dagRuns });
  });
  return app;
}

/** A summary as a task instance's state, with a folded mapped task's count and states. */
function serializeSummary(s: TaskInstanceSummary) {
  const mapped = s.mapped_count === undefined ? {} : { mapped_count: s.mapped_count, mapped_states: s.mapped_states };
  return { ...serializeTaskInstanceState(s), ...mapped };
}
