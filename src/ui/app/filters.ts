/**
 * The filters of the DAG list and of a DAG's grid, read from the URL's query (url-query.ts keeps them there): Airflow
 * 3's names where its API has them. A value the API would refuse is ignored rather than sent. Pure.
 */

export type Paused = "all" | "active" | "paused";
export const DAG_RUN_STATES = ["queued", "running", "success", "failed"] as const;
export const DAG_RUN_TYPES = ["scheduled", "manual", "backfill"] as const;
/** How many of the latest runs the grid may show (the first is the default). */
export const RUN_CHOICES = [25, 50, 100] as const;

const oneOf = <T extends string>(choices: readonly T[], value: string | null): T | "" =>
  (choices as readonly (string | null)[]).includes(value) ? (value as T) : "";

/**
 * The DAG list's filters, named as GET /dags names them: `search`, `paused` (true|false), `tags` (repeated; a DAG
 * with any of them, or with all when `tags_match_mode=all`) and `last_dag_run_state`.
 */
export function dagListFilters(q: URLSearchParams) {
  const p = q.get("paused");
  return {
    search: (q.get("search") ?? "").trim(),
    paused: (p === "true" ? "paused" : p === "false" ? "active" : "all") as Paused,
    tags: [...new Set(q.getAll("tags").filter(Boolean))],
    tagsMatchAll: q.get("tags_match_mode") === "all",
    lastRunState: oneOf(DAG_RUN_STATES, q.get("last_dag_run_state")),
  };
}

/**
 * The grid's filters: `runs` (how many of the latest), `run_state` and `run_type`, and the query they add to
 * GET …/dagRuns (`&state=failed&run_type=manual`).
 */
export function gridFilters(q: URLSearchParams) {
  const n = Number(q.get("runs"));
  const runLimit: number = (RUN_CHOICES as readonly number[]).includes(n) ? n : RUN_CHOICES[0];
  const runState = oneOf(DAG_RUN_STATES, q.get("run_state"));
  const runType = oneOf(DAG_RUN_TYPES, q.get("run_type"));
  const runQuery = `${runState ? `&state=${runState}` : ""}${runType ? `&run_type=${runType}` : ""}`;
  return { runLimit, runState, runType, runQuery };
}
