import { describe, expect, test } from "bun:test";
import { cellAt, cellWindow, GRID, moveCell, scrollToShow, squareInContent } from "../../../src/ui/app/grid-geometry";
import { type PaintContext, paintGrid } from "../../../src/ui/app/grid-paint";
import { splitRecentRuns } from "../../../src/ui/app/recent-runs";
import type { DagRun, Task, TaskInstance } from "../../../src/ui/app/types";

// A 900 × 600 view: 640 px of cells across (32 runs), 528 px down (24 tasks).
const view = { top: 0, left: 0, width: GRID.NAME + 640, height: GRID.HEAD + 528 };

describe("grid geometry", () => {
  test("only the rows and runs in view are drawn, wherever the scroll is", () => {
    expect(cellWindow(500, 100, view)).toMatchObject({ r0: 0, r1: 24, c0: 0, c1: 32, areaWidth: 640, areaHeight: 528 });
    const scrolled = cellWindow(500, 100, { ...view, top: 22 * 100 + 11, left: 20 * 60 });
    expect(scrolled).toMatchObject({ r0: 100, r1: 125, c0: 60, c1: 92 });
  });

  test("a small grid is drawn whole and its area is no bigger than it", () => {
    expect(cellWindow(3, 2, view)).toEqual({ r0: 0, r1: 3, c0: 0, c1: 2, areaWidth: 40, areaHeight: 66 });
    expect(cellWindow(0, 0, view)).toMatchObject({ r1: 0, c1: 0, areaWidth: 0, areaHeight: 0 });
  });

  test("the pointer finds the square under it, and none over the names, the header or past the end", () => {
    const scrolled = { ...view, top: 220, left: 100 };
    expect(cellAt(GRID.NAME + 5, GRID.HEAD + 5, 500, 100, scrolled)).toEqual({ row: 10, col: 5 });
    expect(cellAt(GRID.NAME - 1, GRID.HEAD + 5, 500, 100, scrolled)).toBeNull();
    expect(cellAt(GRID.NAME + 5, GRID.HEAD - 1, 500, 100, scrolled)).toBeNull();
    expect(cellAt(GRID.NAME + 200, GRID.HEAD + 5, 3, 2, view)).toBeNull();
  });

  test("arrows move by one, Home/End jump to the oldest/newest run, pages by a screen; all stop at the edges", () => {
    const at = { row: 0, col: 4 };
    expect(moveCell(at, "ArrowDown", 10, 5, 8)).toEqual({ row: 1, col: 4 });
    expect(moveCell(at, "ArrowUp", 10, 5, 8)).toEqual(at);
    expect(moveCell(at, "ArrowRight", 10, 5, 8)).toEqual(at);
    expect(moveCell(at, "Home", 10, 5, 8)).toEqual({ row: 0, col: 0 });
    expect(moveCell({ row: 0, col: 0 }, "End", 10, 5, 8)).toEqual({ row: 0, col: 4 });
    expect(moveCell(at, "PageDown", 10, 5, 8)).toEqual({ row: 8, col: 4 });
    expect(moveCell({ row: 8, col: 4 }, "PageDown", 10, 5, 8)).toEqual({ row: 9, col: 4 });
    expect(moveCell(at, "Enter", 10, 5, 8)).toBeNull();
  });

  test("moving the keyboard's square out of view scrolls just enough to show it", () => {
    expect(scrollToShow({ row: 5, col: 5 }, 500, 100, view)).toEqual({ top: 0, left: 0 });
    expect(scrollToShow({ row: 24, col: 0 }, 500, 100, view)).toEqual({ top: 22, left: 0 });
    expect(scrollToShow({ row: 3, col: 40 }, 500, 100, { ...view, top: 220 })).toEqual({ top: 66, left: 41 * 20 - 640 });
  });

  test("the focusable square sits on its painted square in the content", () => {
    expect(squareInContent({ row: 2, col: 3 })).toEqual({ x: GRID.NAME + 62, y: GRID.HEAD + 47 });
  });
});

/** A canvas context that records the squares each fill and stroke draws. */
function recorder() {
  const fills: { color: string; squares: number[][] }[] = [];
  const strokes: { color: string; alpha: number; squares: number[][] }[] = [];
  let path: number[][] = [];
  const ctx = {
    fillStyle: "",
    strokeStyle: "",
    lineWidth: 1,
    globalAlpha: 1,
    clearRect() {},
    fillRect() {},
    strokeRect() {},
    beginPath() {
      path = [];
    },
    roundRect(x: number, y: number) {
      path.push([x, y]);
    },
    fill() {
      fills.push({ color: String(ctx.fillStyle), squares: path });
    },
    stroke() {
      strokes.push({ color: String(ctx.strokeStyle), alpha: ctx.globalAlpha, squares: path });
    },
  };
  return { ctx: ctx as unknown as PaintContext, fills, strokes };
}

const task = (task_id: string) => ({ task_id }) as Task;
const run = (dag_run_id: string, dag_id = "d") => ({ dag_run_id, dag_id, state: "success" }) as DagRun;
const ti = (state: string | null) => ({ state }) as TaskInstance;

describe("grid painting", () => {
  test("each square in view is painted in its state's colour, one fill per colour; no state is an outline", () => {
    const tasks = [task("a"), task("b"), task("c")];
    const runs = [run("r1"), run("r2")];
    const tis = new Map([
      [
        "r1",
        new Map([
          ["a", ti("success")],
          ["b", ti("failed")],
          ["c", ti("success")],
        ]),
      ],
      ["r2", new Map([["a", ti(null)]])],
    ]);
    const { ctx, fills, strokes } = recorder();
    const colored = paintGrid(ctx, {
      tasks,
      runs,
      tis,
      view,
      win: cellWindow(3, 2, view),
      colors: { line: "#ccc", rowHover: "#eee", sel: "#00f" },
      bands: [],
      selected: null,
    });
    expect(colored).toBe(3);
    expect(fills).toEqual([
      {
        color: "#008000",
        squares: [
          [2, 3],
          [2, 47],
        ],
      },
      { color: "#ff0000", squares: [[2, 25]] },
    ]);
    // r2/a has no state yet: an outline; r2/b and r2/c do not exist in that run: faint outlines.
    expect(strokes).toEqual([
      { color: "#ccc", alpha: 1, squares: [[22.5, 3.5]] },
      {
        color: "#ccc",
        alpha: 0.35,
        squares: [
          [22.5, 25.5],
          [22.5, 47.5],
        ],
      },
    ]);
  });

  test("rows and runs out of view are not painted", () => {
    const tasks = Array.from({ length: 500 }, (_, i) => task(`t${i}`));
    const runs = Array.from({ length: 100 }, (_, i) => run(`r${i}`));
    const tis = new Map(runs.map((r) => [r.dag_run_id, new Map(tasks.map((t) => [t.task_id, ti("success")]))]));
    const { ctx, fills } = recorder();
    const scrolled = { ...view, top: 22 * 200, left: 20 * 50 };
    const colored = paintGrid(ctx, {
      tasks,
      runs,
      tis,
      view: scrolled,
      win: cellWindow(500, 100, scrolled),
      colors: { line: "#ccc", rowHover: "#eee", sel: "#00f" },
      bands: [],
      selected: null,
    });
    expect(colored).toBe(24 * 32);
    expect(fills[0]?.squares[0]).toEqual([2, 3]);
  });
});

describe("latest runs of the DAGs in view from one batch", () => {
  const runs = [run("a3", "a"), run("b2", "b"), run("a2", "a"), run("a1", "a"), run("b1", "b")];
  test("a batch that was not full has every DAG's runs, newest first, at most `per`", () => {
    const { byDag, incomplete } = splitRecentRuns(runs, ["a", "b", "c"], 2, false);
    expect(Object.fromEntries([...byDag].map(([k, v]) => [k, v.map((r) => r.dag_run_id)]))).toEqual({
      a: ["a3", "a2"],
      b: ["b2", "b1"],
      c: [],
    });
    expect(incomplete).toEqual([]);
  });
  test("in a full batch, a DAG with fewer than `per` runs may have been crowded out: it is asked for alone", () => {
    const { byDag, incomplete } = splitRecentRuns(runs, ["a", "b", "c"], 3, true);
    expect([...byDag.keys()]).toEqual(["a"]);
    expect(incomplete).toEqual(["b", "c"]);
  });
});
