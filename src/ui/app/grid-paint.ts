/**
 * Paints the grid's cells in view on a canvas: a few thousand squares in a couple of milliseconds, where as
 * many links took Chromium ~150 ms per scroll step. Squares of one colour go into one path and one fill.
 * A task instance without a state is an outline; a run that lacks the task (added later) a faint outline.
 * Pure apart from the drawing calls on the context it is given.
 */
import { type Cell, type CellWindow, GRID, type GridView, squareAt } from "./grid-geometry";
import { stateColor } from "./states";
import type { DagRun, Task, TaskInstanceState } from "./types";

/** The drawing calls used, so a test can record them. */
export type PaintContext = Pick<
  CanvasRenderingContext2D,
  "clearRect" | "fillRect" | "beginPath" | "roundRect" | "fill" | "stroke" | "strokeRect"
> & {
  fillStyle: CanvasRenderingContext2D["fillStyle"];
  strokeStyle: CanvasRenderingContext2D["strokeStyle"];
  lineWidth: number;
  globalAlpha: number;
};

/** Theme colours read from the page's CSS variables (light or dark). */
export interface GridColors {
  line: string;
  rowHover: string;
  sel: string;
}

export interface PaintInput {
  tasks: readonly Task[];
  runs: readonly DagRun[];
  tis: ReadonlyMap<string, ReadonlyMap<string, TaskInstanceState>>;
  view: GridView;
  win: CellWindow;
  colors: GridColors;
  /** Rows drawn with a background band: the selected task's and the one under the pointer. */
  bands: readonly number[];
  /** The selected task instance: an outline around its square. */
  selected: Cell | null;
}

const RADIUS = 3;

/** Paints the cells in view; returns how many of them have a state colour (the bench's "first useful paint"). */
export function paintGrid(ctx: PaintContext, p: PaintInput): number {
  const { win, view } = p;
  ctx.globalAlpha = 1;
  ctx.clearRect(0, 0, win.areaWidth, win.areaHeight);
  ctx.fillStyle = p.colors.rowHover;
  for (const row of new Set(p.bands))
    if (row >= win.r0 && row < win.r1) ctx.fillRect(0, row * GRID.ROW - view.top, win.areaWidth, GRID.ROW);

  const byColor = new Map<string, Cell[]>();
  const noState: Cell[] = [];
  const missing: Cell[] = [];
  for (let col = win.c0; col < win.c1; col++) {
    const run = p.runs[col];
    const tis = run ? p.tis.get(run.dag_run_id) : undefined;
    for (let row = win.r0; row < win.r1; row++) {
      const task = p.tasks[row];
      if (!task) continue;
      const ti = tis?.get(task.task_id);
      if (!ti) {
        missing.push({ row, col });
        continue;
      }
      const color = stateColor(ti.state);
      if (!color) {
        noState.push({ row, col });
        continue;
      }
      const list = byColor.get(color);
      if (list) list.push({ row, col });
      else byColor.set(color, [{ row, col }]);
    }
  }

  let colored = 0;
  for (const [color, cells] of byColor) {
    ctx.fillStyle = color;
    ctx.beginPath();
    for (const cell of cells) {
      const s = squareAt(cell, view);
      ctx.roundRect(s.x, s.y, GRID.CELL, GRID.CELL, RADIUS);
    }
    ctx.fill();
    colored += cells.length;
  }
  ctx.strokeStyle = p.colors.line;
  ctx.lineWidth = 1;
  outline(ctx, noState, view);
  ctx.globalAlpha = 0.35;
  outline(ctx, missing, view);
  ctx.globalAlpha = 1;
  if (p.selected) {
    const s = squareAt(p.selected, view);
    ctx.strokeStyle = p.colors.sel;
    ctx.lineWidth = 2;
    ctx.strokeRect(s.x - 2, s.y - 2, GRID.CELL + 4, GRID.CELL + 4);
  }
  return colored;
}

function outline(ctx: PaintContext, cells: Cell[], view: GridView): void {
  if (!cells.length) return;
  ctx.beginPath();
  // Half a pixel in, so a 1 px line falls on whole pixels.
  for (const cell of cells) {
    const s = squareAt(cell, view);
    ctx.roundRect(s.x + 0.5, s.y + 0.5, GRID.CELL - 1, GRID.CELL - 1, RADIUS);
  }
  ctx.stroke();
}
