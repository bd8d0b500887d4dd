/**
 * The DAG list's run squares come from one batch request for all the DAGs in view (POST
 * /dags/~/dagRuns/list, newest first, `per` runs per DAG asked for) instead of one request per DAG. This
 * splits its answer per DAG, and says which DAGs may have been cut short: when the answer is full, a DAG
 * that runs often can crowd out the others, which then need a request of their own. Pure.
 */
import type { DagRun } from "./types";

export function splitRecentRuns(
  runs: readonly DagRun[],
  dagIds: readonly string[],
  per: number,
  full: boolean,
): { byDag: Map<string, DagRun[]>; incomplete: string[] } {
  const byDag = new Map<string, DagRun[]>(dagIds.map((id) => [id, []]));
  for (const run of runs) {
    const list = byDag.get(run.dag_id);
    if (list && list.length < per) list.push(run);
  }
  const incomplete = full ? dagIds.filter((id) => (byDag.get(id)?.length ?? 0) < per) : [];
  for (const id of incomplete) byDag.delete(id);
  return { byDag, incomplete };
}
