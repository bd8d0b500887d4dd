/** Effective priority weights (Airflow's weight_rule), computed once per DAG version for dispatch order. */
import type { DagSpec } from "../domain";

/**
 * Each task's effective priority weight, per its own `weight_rule`:
 * - `downstream` (default): its own priority_weight plus that of every task downstream of it, each
 *   descendant counted once — so tasks that unblock more work go first;
 * - `upstream`: its own plus every ancestor's — so runs that are further along finish first;
 * - `absolute`: its own.
 *
 * @example effectivePriorityWeights(spec).get("extract") // 3 for extract → load → notify, weights 1
 */
export function effectivePriorityWeights(spec: Pick<DagSpec, "tasks">): Map<string, number> {
  const own = new Map(spec.tasks.map((t) => [t.task_id, t.priority_weight]));
  const upstream = new Map(spec.tasks.map((t) => [t.task_id, t.upstream.filter((u) => own.has(u))]));
  const downstream = new Map<string, string[]>(spec.tasks.map((t) => [t.task_id, []]));
  for (const t of spec.tasks) for (const u of upstream.get(t.task_id)!) downstream.get(u)!.push(t.task_id);

  const weights = new Map<string, number>();
  for (const t of spec.tasks) {
    let w = t.priority_weight;
    if (t.weight_rule === "downstream") for (const d of reachable(t.task_id, downstream)) w += own.get(d)!;
    else if (t.weight_rule === "upstream") for (const a of reachable(t.task_id, upstream)) w += own.get(a)!;
    weights.set(t.task_id, w);
  }
  return weights;
}

/** Every task reachable from `start` along `edges`, excluding `start`, each once. */
function reachable(start: string, edges: Map<string, string[]>): Set<string> {
  const seen = new Set<string>();
  const stack = [...(edges.get(start) ?? [])];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id) || id === start) continue;
    seen.add(id);
    stack.push(...(edges.get(id) ?? []));
  }
  return seen;
}
