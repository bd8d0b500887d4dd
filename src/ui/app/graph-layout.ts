/**
 * The DAG's shape laid out left to right by dependency depth (a task's column is the longest path from a
 * root), rows ordered in each column by the mean row of its upstreams so edges cross less. Pure.
 */

export interface GraphTask {
  task_id: string;
  upstream_task_ids: string[];
}

export interface LaidOutNode {
  id: string;
  x: number;
  y: number;
  layer: number;
}

export interface GraphLayout {
  nodes: LaidOutNode[];
  edges: { from: string; to: string; path: string }[];
  width: number;
  height: number;
}

export const NODE_W = 168;
export const NODE_H = 32;
const GAP_X = 56;
const GAP_Y = 14;
const PAD = 12;

/** Depth of each task: 0 for roots, else 1 + the deepest upstream. Unknown upstreams are ignored; a cycle ends at depth 0. */
export function depths(tasks: GraphTask[]): Map<string, number> {
  const byId = new Map(tasks.map((t) => [t.task_id, t]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let d = 0;
    for (const up of byId.get(id)?.upstream_task_ids ?? []) if (byId.has(up)) d = Math.max(d, visit(up) + 1);
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  for (const t of tasks) visit(t.task_id);
  return depth;
}

export function layoutGraph(tasks: GraphTask[]): GraphLayout {
  const depth = depths(tasks);
  const layers: string[][] = [];
  for (const t of tasks) {
    const d = depth.get(t.task_id) ?? 0;
    (layers[d] ??= []).push(t.task_id);
  }
  const row = new Map<string, number>();
  const ups = new Map(tasks.map((t) => [t.task_id, t.upstream_task_ids]));
  layers.forEach((layer, i) => {
    if (i > 0) {
      const key = (id: string) => {
        const rows = (ups.get(id) ?? []).map((u) => row.get(u)).filter((r): r is number => r !== undefined);
        return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Number.MAX_SAFE_INTEGER;
      };
      layer.sort((a, b) => key(a) - key(b));
    }
    layer.forEach((id, r) => {
      row.set(id, r);
    });
  });
  const tallest = Math.max(1, ...layers.map((l) => l.length));
  const height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y;
  const nodes: LaidOutNode[] = [];
  const pos = new Map<string, LaidOutNode>();
  layers.forEach((layer, i) => {
    const layerHeight = layer.length * NODE_H + (layer.length - 1) * GAP_Y;
    const top = (height - layerHeight) / 2;
    layer.forEach((id, r) => {
      const n = { id, layer: i, x: PAD + i * (NODE_W + GAP_X), y: top + r * (NODE_H + GAP_Y) };
      nodes.push(n);
      pos.set(id, n);
    });
  });
  const edges: GraphLayout["edges"] = [];
  for (const t of tasks)
    for (const up of t.upstream_task_ids) {
      const a = pos.get(up);
      const b = pos.get(t.task_id);
      if (!a || !b) continue;
      const x1 = a.x + NODE_W;
      const y1 = a.y + NODE_H / 2;
      const x2 = b.x;
      const y2 = b.y + NODE_H / 2;
      const mid = (x1 + x2) / 2;
      edges.push({ from: up, to: t.task_id, path: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` });
    }
  return { nodes, edges, width: PAD * 2 + Math.max(1, layers.length) * (NODE_W + GAP_X) - GAP_X, height };
}

/** Tasks in grid order: by depth, then as the DAG declares them (Airflow's grid reads top-down the same way). */
export function gridOrder<T extends GraphTask>(tasks: T[]): T[] {
  const depth = depths(tasks);
  return tasks
    .map((t, i) => ({ t, i }))
    .sort((a, b) => (depth.get(a.t.task_id) ?? 0) - (depth.get(b.t.task_id) ?? 0) || a.i - b.i)
    .map((x) => x.t);
}
