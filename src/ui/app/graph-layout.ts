/**
 * The DAG's shape laid out left to right by dependency depth (a task's column is the longest path from a
 * root), each column from the top down, a task level with its upstreams where it can be (so edges cross less
 * and the roots are where a view opens: its top left). Pure.
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

export interface LaidOutEdge {
  from: string;
  to: string;
  path: string;
  /** The box the edge stays in: [left, top, right, bottom]. */
  box: [number, number, number, number];
}

export interface GraphLayout {
  nodes: LaidOutNode[];
  edges: LaidOutEdge[];
  width: number;
  height: number;
}

export const NODE_W = 168;
export const NODE_H = 32;
const GAP_X = 56;
const GAP_Y = 14;
const PAD = 12;

/**
 * Depth of each task: 0 for roots, else 1 + the deepest upstream. Unknown upstreams are ignored; a cycle ends at
 * depth 0. Walked with a stack of its own, not by recursion: a chain of 10,000 tasks declared leaf first overflowed
 * the browser's call stack, and the DAG page showed an error instead of its grid.
 */
export function depths(tasks: GraphTask[]): Map<string, number> {
  const byId = new Map(tasks.map((t) => [t.task_id, t]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  /** A task being walked: its known upstreams, the next one to look at, its depth so far. */
  const stack: { id: string; ups: string[]; next: number; d: number }[] = [];
  const enter = (id: string) => {
    visiting.add(id);
    stack.push({ id, ups: (byId.get(id)?.upstream_task_ids ?? []).filter((u) => byId.has(u)), next: 0, d: 0 });
  };
  for (const t of tasks) {
    if (depth.has(t.task_id)) continue;
    enter(t.task_id);
    while (stack.length) {
      const f = stack[stack.length - 1]!;
      if (f.next < f.ups.length) {
        const up = f.ups[f.next++]!;
        const known = depth.get(up);
        if (known !== undefined) f.d = Math.max(f.d, known + 1);
        else if (visiting.has(up))
          f.d = Math.max(f.d, 1); // a cycle: the upstream on the path counts as a root
        else enter(up); // its depth is folded into f when it is done
        continue;
      }
      stack.pop();
      visiting.delete(f.id);
      depth.set(f.id, f.d);
      const parent = stack[stack.length - 1];
      if (parent) parent.d = Math.max(parent.d, f.d + 1);
    }
  }
  return depth;
}

export function layoutGraph(tasks: GraphTask[]): GraphLayout {
  const depth = depths(tasks);
  const layers: string[][] = [];
  for (const t of tasks) {
    const d = depth.get(t.task_id) ?? 0;
    (layers[d] ??= []).push(t.task_id);
  }
  const ups = new Map(tasks.map((t) => [t.task_id, t.upstream_task_ids]));
  const nodes: LaidOutNode[] = [];
  const pos = new Map<string, LaidOutNode>();
  const STEP = NODE_H + GAP_Y;
  let height = PAD * 2 + NODE_H;
  layers.forEach((layer, i) => {
    // A node wants the row of its upstreams (their mean); a column is drawn from the top down, in that order, each
    // node at the row it wants or the first free one below. Columns were centred on the tallest one: a wide DAG
    // (300 tasks in a 4-ary tree) drew its root ~5,000 px down, and the graph opened on an empty panel.
    const want = new Map<string, number>();
    for (const id of layer) {
      let sum = 0;
      let n = 0;
      for (const u of ups.get(id) ?? []) {
        const at = pos.get(u);
        if (!at) continue;
        sum += at.y;
        n++;
      }
      want.set(id, n ? sum / n : Number.MAX_SAFE_INTEGER);
    }
    if (i > 0) layer.sort((a, b) => (want.get(a) as number) - (want.get(b) as number));
    let next = PAD;
    for (const id of layer) {
      const w = want.get(id) as number;
      const y = i > 0 && w !== Number.MAX_SAFE_INTEGER ? Math.max(next, w) : next;
      const node = { id, layer: i, x: PAD + i * (NODE_W + GAP_X), y };
      nodes.push(node);
      pos.set(id, node);
      next = y + STEP;
    }
    height = Math.max(height, next - GAP_Y + PAD);
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
      edges.push({
        from: up,
        to: t.task_id,
        path: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`,
        box: [x1, Math.min(y1, y2), x2, Math.max(y1, y2)],
      });
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

/** A rectangle of the graph's own coordinates: what a scrolled view shows of it. */
export interface GraphView {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The nodes and edges of `layout` that meet `view` widened by `margin` on every side, in layout order: what a large
 * graph draws (a DAG of 50,000 tasks took 5.5 s to draw whole in Chromium, and every state change drew it again). Pure.
 */
export function inView(layout: GraphLayout, view: GraphView, margin = 400): Pick<GraphLayout, "nodes" | "edges"> {
  const left = view.x - margin;
  const top = view.y - margin;
  const right = view.x + view.width + margin;
  const bottom = view.y + view.height + margin;
  const meets = (l: number, t: number, r: number, b: number) => r >= left && l <= right && b >= top && t <= bottom;
  return {
    nodes: layout.nodes.filter((n) => meets(n.x, n.y, n.x + NODE_W, n.y + NODE_H)),
    edges: layout.edges.filter((e) => meets(...e.box)),
  };
}
