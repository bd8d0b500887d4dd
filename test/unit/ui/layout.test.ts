import { describe, expect, test } from "bun:test";
import { depths, gridOrder, inView, layoutGraph, NODE_H, NODE_W } from "../../../src/ui/app/graph-layout";
import { rowWindow } from "../../../src/ui/app/virtual";

const t = (task_id: string, upstream_task_ids: string[] = []) => ({ task_id, upstream_task_ids });

describe("graph layout", () => {
  test("a task's column is the longest path from a root", () => {
    const d = depths([t("a"), t("b", ["a"]), t("c", ["a", "b"]), t("d")]);
    expect(Object.fromEntries(d)).toEqual({ a: 0, b: 1, c: 2, d: 0 });
  });

  test("a cycle or an unknown upstream does not hang or throw", () => {
    expect(Object.fromEntries(depths([t("a", ["b"]), t("b", ["a"]), t("c", ["zzz"])]))).toEqual({ a: 2, b: 1, c: 0 });
  });

  test("nodes sit in columns by depth and every edge goes left to right", () => {
    const g = layoutGraph([t("extract"), t("clean", ["extract"]), t("load", ["clean"]), t("report", ["extract"])]);
    const x = Object.fromEntries(g.nodes.map((n) => [n.id, n.x]));
    expect(x.extract).toBeLessThan(x.clean as number);
    expect(x.clean).toBeLessThan(x.load as number);
    expect(x.report).toBe(x.clean as number);
    expect(g.edges).toHaveLength(3);
    expect(g.width).toBeGreaterThanOrEqual(3 * NODE_W);
  });

  test("a chain of 50,000 tasks declared leaf first: every depth, and the grid from the root (no call stack overflow)", () => {
    const n = 50_000;
    const chain = Array.from({ length: n }, (_, k) => n - 1 - k).map((i) => t(`t${i}`, i ? [`t${i - 1}`] : []));
    const d = depths(chain);
    expect(d.get("t0")).toBe(0);
    expect(d.get(`t${n - 1}`)).toBe(n - 1);
    const order = gridOrder(chain).map((x) => x.task_id);
    expect(order.slice(0, 3)).toEqual(["t0", "t1", "t2"]);
    expect(order.at(-1)).toBe(`t${n - 1}`);
  });

  test("a view of a large graph holds the nodes and edges it meets, and only those", () => {
    // A chain of 1,000: one node a column, every 224 px; a view of 1,000 px at x 20,000 (plus a 400 px margin).
    const g = layoutGraph(Array.from({ length: 1_000 }, (_, i) => t(`t${i}`, i ? [`t${i - 1}`] : [])));
    const seen = inView(g, { x: 20_000, y: 0, width: 1_000, height: 600 });
    const columns = seen.nodes.map((n) => n.layer);
    expect(Math.min(...columns)).toBe(87); // x 12 + 87 * 224 + 168 > 19,600
    expect(Math.max(...columns)).toBe(95); // x 12 + 95 * 224 = 21,292 < 21,400
    expect(seen.nodes.every((n) => n.x + NODE_W >= 19_600 && n.x <= 21_400 && n.y + NODE_H >= -400)).toBe(true);
    // The edges between the shown nodes; the ones into t87 and out of t95 lie wholly outside the margin.
    expect(seen.edges.map((e) => e.to)).toEqual(seen.nodes.slice(1).map((n) => n.id));
    // A wider margin takes in an edge that only crosses the view.
    const wide = inView(g, { x: 20_000, y: 0, width: 1_000, height: 600 }, 500);
    expect(wide.edges.map((e) => e.to)).toEqual(expect.arrayContaining(["t87", "t96"]));
    expect(inView(g, { x: 1_000_000, y: 0, width: 1_000, height: 600 })).toEqual({ nodes: [], edges: [] });
  });

  test("a wide tree is laid out from the top: its root at the top left, each task level with its upstream or below", () => {
    // 300 tasks in a 4-ary tree: the widest column holds 215 of them. Columns were centred on it, which put the root
    // ~5,000 px down, out of the view a graph opens on.
    const tree = Array.from({ length: 300 }, (_, i) => t(`task_${i}`, i ? [`task_${Math.floor((i - 1) / 4)}`] : []));
    const g = layoutGraph(tree);
    const at = new Map(g.nodes.map((n) => [n.id, n]));
    const root = at.get("task_0");
    expect(root).toMatchObject({ x: 12, y: 12 });
    // The first child of each of the first tasks is level with it: the view's first screen shows the tree's top.
    for (const id of ["task_1", "task_5", "task_21", "task_85"]) expect(at.get(id)?.y).toBe(12);
    for (const n of g.nodes) {
      const up = tree.find((x) => x.task_id === n.id)?.upstream_task_ids[0];
      if (up) expect(n.y).toBeGreaterThanOrEqual(at.get(up)?.y as number);
    }
    // No two nodes of a column overlap, and the drawing is as tall as its lowest node.
    for (const layer of new Set(g.nodes.map((n) => n.layer))) {
      const ys = g.nodes.filter((n) => n.layer === layer).map((n) => n.y);
      for (let i = 1; i < ys.length; i++) expect((ys[i] as number) - (ys[i - 1] as number)).toBeGreaterThanOrEqual(NODE_H);
    }
    expect(g.height).toBe(Math.max(...g.nodes.map((n) => n.y)) + NODE_H + 12);
  });

  test("a join sits between its upstreams; a chain stays on one row", () => {
    const g = layoutGraph([t("a"), t("b", ["a"]), t("c", ["a"]), t("d", ["b", "c"])]);
    const y = Object.fromEntries(g.nodes.map((n) => [n.id, n.y]));
    expect(y.a).toBe(y.b as number);
    expect(y.c).toBeGreaterThan(y.b as number);
    expect(y.d).toBe(((y.b as number) + (y.c as number)) / 2);
    expect(new Set(layoutGraph(Array.from({ length: 50 }, (_, i) => t(`t${i}`, i ? [`t${i - 1}`] : []))).nodes.map((n) => n.y))).toEqual(
      new Set([12]),
    );
  });

  test("the grid lists tasks by depth, then as declared", () => {
    expect(gridOrder([t("z", ["a"]), t("a"), t("m")]).map((x) => x.task_id)).toEqual(["a", "m", "z"]);
  });
});

describe("virtual rows", () => {
  test("only the rows in view (plus overscan) are drawn, at their offset", () => {
    expect(rowWindow(1000, 44, 4400, 440, 5)).toEqual({ start: 95, end: 116, offset: 95 * 44, total: 44000 });
  });
  test("the window never leaves the list", () => {
    expect(rowWindow(3, 20, 0, 800)).toEqual({ start: 0, end: 3, offset: 0, total: 60 });
    expect(rowWindow(0, 20, 100, 800)).toEqual({ start: 0, end: 0, offset: 0, total: 0 });
  });
});
