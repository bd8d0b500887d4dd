/** Which rows of a fixed-height list to draw for a scroll position: the window plus an overscan. Pure. */

export interface RowWindow {
  start: number;
  /** Exclusive. */
  end: number;
  /** Pixels above the first drawn row. */
  offset: number;
  total: number;
}

export function rowWindow(count: number, rowHeight: number, scrollTop: number, viewport: number, overscan = 8): RowWindow {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const visible = Math.ceil(Math.max(0, viewport) / rowHeight) + 1;
  const start = Math.max(0, Math.min(count, first - overscan));
  const end = Math.max(start, Math.min(count, first + visible + overscan));
  return { start, end, offset: start * rowHeight, total: count * rowHeight };
}
