/**
 * Where things are in the grid (tasks down, runs across, a header of run bars on top and the task names on
 * the left): which cells are in view for a scroll position, which cell is under the pointer, where a cell
 * sits, how the keyboard moves the focused cell and how far to scroll to show it. Pure: the canvas painter,
 * the pointer handlers and the tests share it.
 */

/** Fixed sizes in CSS pixels: nothing moves as states change. */
export const GRID = {
  /** A task's row. */
  ROW: 22,
  /** A run's column. */
  COL: 20,
  /** The coloured square inside a row × column slot. */
  CELL: 16,
  /** The header with the run bars. */
  HEAD: 72,
  /** The column of task names. */
  NAME: 260,
} as const;

/** The scroll box: its scroll offsets and its client size (without scroll bars). */
export interface GridView {
  top: number;
  left: number;
  width: number;
  height: number;
}

export interface Cell {
  row: number;
  col: number;
}

/** Rows and columns in view, end exclusive; and the size of the cell area (right of the names, below the header). */
export interface CellWindow {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
  areaWidth: number;
  areaHeight: number;
}

/** The full scrollable size of a grid with `rows` tasks and `cols` runs. */
export function gridSize(rows: number, cols: number): { width: number; height: number } {
  return { width: GRID.NAME + cols * GRID.COL, height: GRID.HEAD + rows * GRID.ROW };
}

export function cellWindow(rows: number, cols: number, view: GridView): CellWindow {
  const size = gridSize(rows, cols);
  const areaWidth = Math.max(0, Math.min(view.width, size.width) - GRID.NAME);
  const areaHeight = Math.max(0, Math.min(view.height, size.height) - GRID.HEAD);
  const clamp = (n: number, max: number) => Math.max(0, Math.min(max, n));
  return {
    r0: clamp(Math.floor(view.top / GRID.ROW), rows),
    r1: clamp(Math.ceil((view.top + areaHeight) / GRID.ROW), rows),
    c0: clamp(Math.floor(view.left / GRID.COL), cols),
    c1: clamp(Math.ceil((view.left + areaWidth) / GRID.COL), cols),
    areaWidth,
    areaHeight,
  };
}

/** The cell under a point given relative to the scroll box's client area; null over the header, the names or past the end. */
export function cellAt(x: number, y: number, rows: number, cols: number, view: GridView): Cell | null {
  if (x < GRID.NAME || y < GRID.HEAD) return null;
  const col = Math.floor((x - GRID.NAME + view.left) / GRID.COL);
  const row = Math.floor((y - GRID.HEAD + view.top) / GRID.ROW);
  return row >= 0 && row < rows && col >= 0 && col < cols ? { row, col } : null;
}

/** Top-left of a cell's square in the cell area's coordinates (the canvas), for a scroll position. */
export function squareAt(cell: Cell, view: Pick<GridView, "top" | "left">): { x: number; y: number } {
  return {
    x: cell.col * GRID.COL - view.left + (GRID.COL - GRID.CELL) / 2,
    y: cell.row * GRID.ROW - view.top + (GRID.ROW - GRID.CELL) / 2,
  };
}

/** Top-left of a cell's square in the scrollable content (where the focusable cursor element sits). */
export function squareInContent(cell: Cell): { x: number; y: number } {
  const s = squareAt(cell, { top: 0, left: 0 });
  return { x: GRID.NAME + s.x, y: GRID.HEAD + s.y };
}

/**
 * Where a key moves the focused cell: arrows by one, Home/End to the oldest/newest run, PageUp/PageDown by
 * `pageRows`; null for any other key (the browser keeps it, so Tab and Enter work as usual).
 */
export function moveCell(cell: Cell, key: string, rows: number, cols: number, pageRows: number): Cell | null {
  const to = (row: number, col: number) => ({
    row: Math.max(0, Math.min(rows - 1, row)),
    col: Math.max(0, Math.min(cols - 1, col)),
  });
  switch (key) {
    case "ArrowUp":
      return to(cell.row - 1, cell.col);
    case "ArrowDown":
      return to(cell.row + 1, cell.col);
    case "ArrowLeft":
      return to(cell.row, cell.col - 1);
    case "ArrowRight":
      return to(cell.row, cell.col + 1);
    case "Home":
      return to(cell.row, 0);
    case "End":
      return to(cell.row, cols - 1);
    case "PageUp":
      return to(cell.row - Math.max(1, pageRows), cell.col);
    case "PageDown":
      return to(cell.row + Math.max(1, pageRows), cell.col);
    default:
      return null;
  }
}

/** The scroll offsets that bring a cell fully into the cell area, moving as little as possible. */
export function scrollToShow(cell: Cell, rows: number, cols: number, view: GridView): { top: number; left: number } {
  const w = cellWindow(rows, cols, view);
  const y = cell.row * GRID.ROW;
  const x = cell.col * GRID.COL;
  let top = view.top;
  let left = view.left;
  if (y < top) top = y;
  else if (y + GRID.ROW > top + w.areaHeight) top = y + GRID.ROW - w.areaHeight;
  if (x < left) left = x;
  else if (x + GRID.COL > left + w.areaWidth) left = x + GRID.COL - w.areaWidth;
  return { top: Math.max(0, top), left: Math.max(0, left) };
}
