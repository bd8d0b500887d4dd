/** @jsxImportSource preact */
/**
 * The grid: one row per task (grid order), one column per run (oldest left, opened scrolled to the newest),
 * each task instance a fixed square in Airflow's state colour. The squares are painted on one canvas the
 * size of the view (grid-paint.ts), so a 500 × 100 grid costs what is on screen; the task names and run bars
 * around it are the few elements in view. Hover a square for its try, start and duration; click it to open
 * the task instance. Keyboard: Tab reaches one focusable cell (a real link, so Enter and middle-click open it),
 * the arrow keys, Home/End and PageUp/PageDown move it.
 */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { DagData } from "../dag-data";
import { formatDuration, formatTime } from "../format";
import {
  type Cell,
  cellAt,
  cellWindow,
  GRID,
  type GridView,
  gridSize,
  moveCell,
  squareAt,
  squareInContent,
  scrollToShow,
} from "../grid-geometry";
import { type GridColors, paintGrid } from "../grid-paint";
import { describeMapped } from "../mapped";
import { dagHref, navigate } from "../router";
import { stateColor, stateLabel } from "../states";
import { PAUSED_WAIT } from "./common";

/** A User Timing mark set when the grid first paints coloured squares: the bench's "first useful paint". */
export const GRID_PAINT_MARK = "leoflow:grid-cells";
/** A User Timing mark set when the grid first paints with every run's task instances read: the bench's "all runs loaded". */
export const GRID_LOADED_MARK = "leoflow:grid-loaded";

interface Props {
  dagId: string;
  data: DagData;
  runId?: string;
  taskId?: string;
  /** The DAG is paused: a queued run's tooltip says why it waits. */
  paused?: boolean;
}

export function Grid({ dagId, data, runId, taskId, paused }: Props) {
  const box = useRef<HTMLElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [view, setView] = useState<GridView>({ top: 0, left: 0, width: 900, height: 600 });
  const [hover, setHover] = useState<Cell | null>(null);
  const [focused, setFocused] = useState(false);
  // The keyboard cell by ids, so it stays on the same task instance when new runs shift the columns.
  const [cursorIds, setCursorIds] = useState<{ runId: string; taskId: string } | null>(null);
  const marked = useRef(false);
  const loadedMarked = useRef(false);
  // Opened at the newest runs, and kept there as runs arrive, until the user scrolls away from the right edge.
  const pinnedRight = useRef(true);
  const { tasks, runs, tis } = data;
  const rows = tasks.length;
  const cols = runs.length;
  const size = gridSize(rows, cols);
  const win = cellWindow(rows, cols, view);

  const rowOf = (id: string | undefined) => (id ? tasks.findIndex((t) => t.task_id === id) : -1);
  const colOf = (id: string | undefined) => (id ? runs.findIndex((r) => r.dag_run_id === id) : -1);
  const selRow = rowOf(taskId);
  const selCol = colOf(runId);
  const selected = selRow >= 0 && selCol >= 0 ? { row: selRow, col: selCol } : null;
  const cursor: Cell | null = (() => {
    if (!rows || !cols) return null;
    const r = rowOf(cursorIds?.taskId);
    const c = colOf(cursorIds?.runId);
    if (r >= 0 && c >= 0) return { row: r, col: c };
    return selected ?? { row: Math.min(win.r0, rows - 1), col: cols - 1 };
  })();

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const update = () => {
      pinnedRight.current = el.scrollLeft + el.clientWidth >= el.scrollWidth - 2;
      setView({ top: el.scrollTop, left: el.scrollLeft, width: el.clientWidth, height: el.clientHeight });
    };
    update();
    const ro = new ResizeObserver(update);
    ro.observe(el);
    el.addEventListener("scroll", update, { passive: true });
    const dark = matchMedia("(prefers-color-scheme: dark)");
    dark.addEventListener("change", update);
    return () => {
      ro.disconnect();
      el.removeEventListener("scroll", update);
      dark.removeEventListener("change", update);
    };
  }, []);

  // A wide DAG reads only the rows it shows (dag-data.ts showRows): tell it which.
  useEffect(() => {
    if (data.windowed && rows) data.showRows(win.r0, win.r1);
  }, [data.windowed, rows, win.r0, win.r1]);

  // New runs: stay at the newest while pinned there; a selected task instance from the URL is brought into view once.
  const shownSelection = useRef(false);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || !cols) return;
    if (selected && !shownSelection.current && rows) {
      shownSelection.current = true;
      const to = scrollToShow(selected, rows, cols, view);
      el.scrollTop = to.top;
      el.scrollLeft = to.left;
    } else if (pinnedRight.current) el.scrollLeft = el.scrollWidth;
  }, [cols, rows]);

  useLayoutEffect(() => {
    const c = canvas.current;
    const ctx = c?.getContext("2d");
    if (!c || !ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(win.areaWidth * dpr);
    const h = Math.round(win.areaHeight * dpr);
    if (c.width !== w) c.width = w;
    if (c.height !== h) c.height = h;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const bands = [selRow, hover?.row ?? -1, focused && cursor ? cursor.row : -1].filter((r) => r >= 0);
    const colored = paintGrid(ctx, { tasks, runs, tis, view, win, colors: themeColors(c), bands, selected });
    if (colored > 0 && !marked.current) {
      marked.current = true;
      performance.mark(GRID_PAINT_MARK);
    }
    if (!data.loading && !loadedMarked.current) {
      loadedMarked.current = true;
      performance.mark(GRID_LOADED_MARK);
    }
  });

  const pointCell = (e: PointerEvent | MouseEvent): Cell | null => {
    const el = box.current;
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return cellAt(e.clientX - r.left - el.clientLeft, e.clientY - r.top - el.clientTop, rows, cols, view);
  };
  /** A run bar stands for its whole column: row -1. */
  const barCell = (el: Element): Cell | null => {
    const bar = el.closest<HTMLElement>("a.bar");
    return bar ? { row: -1, col: Number(bar.dataset.col) } : null;
  };
  const hrefOf = (cell: Cell) => dagHref(dagId, { runId: runs[cell.col]?.dag_run_id, taskId: tasks[cell.row]?.task_id });

  const moveCursor = (e: KeyboardEvent) => {
    const el = box.current;
    if (!cursor || !el) return;
    const next = moveCell(cursor, e.key, rows, cols, Math.floor(win.areaHeight / GRID.ROW) - 1);
    if (!next) return;
    e.preventDefault();
    const run = runs[next.col];
    const task = tasks[next.row];
    if (run && task) setCursorIds({ runId: run.dag_run_id, taskId: task.task_id });
    const to = scrollToShow(next, rows, cols, view);
    el.scrollTop = to.top;
    el.scrollLeft = to.left;
  };

  const maxDuration = Math.max(1, ...runs.map((r) => r.duration ?? 0));
  const bars = [];
  for (let c = win.c0; c < win.c1; c++) {
    const run = runs[c];
    if (!run) continue;
    const h = Math.max(4, Math.round(((run.duration ?? 0) / maxDuration) * (GRID.HEAD - 14)));
    bars.push(
      <a
        key={run.dag_run_id}
        class={`bar${run.dag_run_id === runId && !taskId ? " sel" : ""}`}
        href={dagHref(dagId, { runId: run.dag_run_id })}
        data-nav=""
        data-run={run.dag_run_id}
        data-col={c}
        data-state={run.state}
        aria-label={`run ${run.dag_run_id}: ${run.state}`}
        style={{ left: `${c * GRID.COL}px` }}
      >
        <span style={{ height: `${h}px`, background: stateColor(run.state) ?? undefined }} />
      </a>,
    );
  }
  const names = [];
  for (let r = win.r0; r < win.r1; r++) {
    const task = tasks[r];
    if (!task) continue;
    const on = r === selRow || r === hover?.row || (focused && r === cursor?.row);
    names.push(
      <div key={task.task_id} class={`gname mono${on ? " sel" : ""}`} style={{ top: `${r * GRID.ROW}px` }} title={task.task_id}>
        {task.task_id}
        {/* Airflow's mark of a mapped task in the grid's names. */}
        {task.is_mapped ? <span class="muted"> [ ]</span> : null}
      </div>,
    );
  }

  const tipCell = hover ?? (focused ? cursor : null);
  const cursorAt = cursor ? squareInContent(cursor) : null;
  const cursorRun = cursor ? runs[cursor.col] : undefined;
  const cursorTask = cursor ? tasks[cursor.row] : undefined;
  const cursorTi = cursorRun && cursorTask ? tis.get(cursorRun.dag_run_id)?.get(cursorTask.task_id) : undefined;
  const stick = { width: Math.min(view.width, size.width), height: Math.min(view.height, size.height) };

  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: the squares are painted, so the click is placed by the pointer; the keyboard has the focusable cell
    <section
      class="grid"
      ref={box}
      aria-label={`Grid of ${dagId}: ${rows} tasks × ${cols} runs`}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
        const a = (e.target as Element).closest<HTMLAnchorElement>("a[data-nav]");
        if (a) {
          e.preventDefault();
          navigate(a.getAttribute("href") ?? "/");
          return;
        }
        const cell = e.target === canvas.current ? pointCell(e) : null;
        if (cell) navigate(hrefOf(cell));
      }}
      onPointerMove={(e) => {
        const cell = e.target === canvas.current ? pointCell(e) : barCell(e.target as Element);
        if (cell?.row !== hover?.row || cell?.col !== hover?.col) setHover(cell);
      }}
      onPointerLeave={() => setHover(null)}
      onFocusIn={(e) => setHover(barCell(e.target as Element))}
      onFocusOut={() => setHover(null)}
    >
      <div class="gsizer" style={{ width: `${size.width}px`, height: `${size.height}px` }}>
        <div class="gstick" style={{ width: `${stick.width}px`, height: `${stick.height}px` }}>
          <canvas
            ref={canvas}
            class={`gcanvas${hover ? " over" : ""}`}
            style={{ width: `${win.areaWidth}px`, height: `${win.areaHeight}px` }}
          />
          <div class="gnames" style={{ height: `${win.areaHeight}px` }}>
            <div style={{ transform: `translateY(${-view.top}px)` }}>{names}</div>
          </div>
          <div class="ghead">
            <span class="gname muted">{data.loading ? "loading…" : `${rows} tasks`}</span>
            <div class="gbars" style={{ width: `${win.areaWidth}px` }}>
              <div style={{ transform: `translateX(${-view.left}px)` }}>{bars}</div>
            </div>
          </div>
        </div>
        {cursor && cursorAt && cursorRun && cursorTask ? (
          // biome-ignore lint/a11y/useAnchorContent: a square over the painted cell; aria-label names it (task, run, state)
          <a
            class="gcursor"
            href={hrefOf(cursor)}
            data-nav=""
            aria-label={`${cursorTask.task_id} in ${cursorRun.dag_run_id}: ${stateLabel(cursorTi?.state)}${cursorTi?.mapped_count ? `, ${cursorTi.mapped_count} mapped instances (${describeMapped(cursorTi)})` : ""}`}
            aria-describedby="grid-keys"
            style={{ left: `${cursorAt.x}px`, top: `${cursorAt.y}px` }}
            onKeyDown={moveCursor}
            onFocus={() => setFocused(true)}
            onBlur={() => setFocused(false)}
          />
        ) : null}
        <span id="grid-keys" class="sr-only">
          Arrow keys move between task instances, Enter opens one.
        </span>
      </div>
      {tipCell ? <GridTip box={box.current} cell={tipCell} view={view} data={data} paused={paused} /> : null}
    </section>
  );
}

/** The grid's theme colours from the CSS variables (they follow light and dark). */
function themeColors(el: Element): GridColors {
  const css = getComputedStyle(el);
  const v = (name: string, dflt: string) => css.getPropertyValue(name).trim() || dflt;
  return { line: v("--line", "#d8dde3"), rowHover: v("--row-hover", "#eef3fb"), sel: v("--sel", "#0b62d6") };
}

function GridTip(props: { box: HTMLElement | null; cell: Cell; view: GridView; data: DagData; paused?: boolean }) {
  const { box, cell, view, data } = props;
  const run = data.runs[cell.col];
  const task = data.tasks[cell.row];
  if (!box || !run) return null;
  const ti = task ? data.tis.get(run.dag_run_id)?.get(task.task_id) : undefined;
  const r = box.getBoundingClientRect();
  const s = squareAt({ row: Math.max(0, cell.row), col: cell.col }, view);
  const x = r.left + box.clientLeft + GRID.NAME + s.x + GRID.CELL + 6;
  const y = r.top + box.clientTop + (task ? GRID.HEAD + s.y : 8);
  return (
    <div class="tip" role="tooltip" style={{ left: `${Math.min(x, window.innerWidth - 300)}px`, top: `${y}px` }}>
      {task ? (
        <>
          <strong class="mono">{task.task_id}</strong>
          <div>State: {stateLabel(ti?.state)}</div>
          {ti?.mapped_count ? (
            <div class="mapped">
              Mapped: {ti.mapped_count} instances ({describeMapped(ti)})
            </div>
          ) : null}
          <div>Try: {ti ? `${ti.try_number} of ${ti.max_tries + 1}` : "—"}</div>
          <div>Started: {formatTime(ti?.start_date)}</div>
          <div>Duration: {formatDuration(ti?.duration)}</div>
        </>
      ) : null}
      <div class="muted mono">{run.dag_run_id}</div>
      <div>
        Run: {run.state} · {run.run_type} · {formatDuration(run.duration)}
      </div>
      {run.state === "queued" && props.paused ? <div class="waits">{PAUSED_WAIT}</div> : null}
    </div>
  );
}
