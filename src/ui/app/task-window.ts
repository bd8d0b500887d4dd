/**
 * Which task rows a wide DAG's page reads (pure). A DAG of more than WINDOWED_TASKS tasks is read a window of rows
 * at a time, the rows in view and a margin each side, for every run shown, instead of every task instance of every
 * run (a DAG of 10,000 tasks was 250,000 entries, ~44 MB, for its latest 25 runs).
 */

/** Above this many tasks the page reads only the rows in view. */
export const WINDOWED_TASKS = 1_000;
/** Rows read beyond each edge of the view, so a scroll of a screen or so finds them read. */
export const WINDOW_MARGIN = 60;
/** Rows read when the page opens, before the grid says which are in view (it opens at the top). */
export const FIRST_WINDOW_ROWS = 120;
/** The task ids of rows r0..r1 (inclusive) and the margin each side, in grid order. */
export function wantedTaskIds(taskIds: readonly string[], r0: number, r1: number, margin = WINDOW_MARGIN): string[] {
  const from = Math.max(0, r0 - margin);
  const to = Math.min(taskIds.length, Math.max(r0, r1) + 1 + margin);
  return taskIds.slice(from, to);
}

/**
 * Characters of query string one read's run ids, and its task ids, take at most: two of these stay well under the
 * 16 KiB a server takes for a request's head, whatever the ids' lengths (Airflow allows 250-character task ids).
 */
export const WINDOW_QUERY_PART = 4_000;

/** `name=value` pairs joined with `&`, split so that no part is longer than `budget` characters (one pair at least). */
function parts(name: string, values: readonly string[], budget: number): string[] {
  const out: string[] = [];
  let current = "";
  for (const v of values) {
    const pair = `${name}=${encodeURIComponent(v)}`;
    if (current && current.length + 1 + pair.length > budget) {
      out.push(current);
      current = pair;
    } else current = current ? `${current}&${pair}` : pair;
  }
  if (current) out.push(current);
  return out;
}

/**
 * The query strings of the reads of `taskIds` for `runIds` (GET …/dags/{dag}/taskInstanceSummaries): every run with
 * every task, each read's run ids and task ids at most `budget` characters each.
 */
export function windowQueries(runIds: readonly string[], taskIds: readonly string[], budget = WINDOW_QUERY_PART): string[] {
  if (!runIds.length || !taskIds.length) return [];
  const tasks = parts("task_id", taskIds, budget);
  return parts("dag_run_id", runIds, budget).flatMap((runs) => tasks.map((t) => `${runs}&${t}`));
}
