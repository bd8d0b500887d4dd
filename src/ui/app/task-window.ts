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
/** Task ids one read names at most: ~5 KB of URL (the server takes up to 1,000, more than a URL of 16 KB holds). */
export const WINDOW_READ_TASKS = 200;

/** The task ids of rows r0..r1 (inclusive) and the margin each side, in grid order. */
export function wantedTaskIds(taskIds: readonly string[], r0: number, r1: number, margin = WINDOW_MARGIN): string[] {
  const from = Math.max(0, r0 - margin);
  const to = Math.min(taskIds.length, Math.max(r0, r1) + 1 + margin);
  return taskIds.slice(from, to);
}

/**
 * The query strings of the reads of `taskIds` for `runIds` (GET …/dags/{dag}/taskInstanceSummaries), at most
 * WINDOW_READ_TASKS task ids each.
 */
export function windowQueries(runIds: readonly string[], taskIds: readonly string[], perRead = WINDOW_READ_TASKS): string[] {
  if (!runIds.length || !taskIds.length) return [];
  const runs = runIds.map((r) => `dag_run_id=${encodeURIComponent(r)}`).join("&");
  const out: string[] = [];
  for (let i = 0; i < taskIds.length; i += perRead)
    out.push(
      `${runs}&${taskIds
        .slice(i, i + perRead)
        .map((t) => `task_id=${encodeURIComponent(t)}`)
        .join("&")}`,
    );
  return out;
}
