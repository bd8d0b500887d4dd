/** @jsxImportSource preact */
/**
 * The DAG's shape (layered by dependency depth, left to right), each task coloured by its state in the chosen run.
 * A graph of more than DRAW_ALL_MAX tasks draws only what its scrolled view shows (and a margin around it).
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import type { DagData } from "../dag-data";
import { type GraphView, inView, layoutGraph, NODE_H, NODE_W } from "../graph-layout";
import { dagHref, navigate } from "../router";
import { stateColor, stateLabel } from "../states";

/** Graphs up to this many tasks are drawn whole (every node in the DOM, each one a focusable link). */
export const DRAW_ALL_MAX = 2_000;

export function Graph({ dagId, data, runId, taskId }: { dagId: string; data: DagData; runId?: string; taskId?: string }) {
  const layout = useMemo(() => layoutGraph(data.tasks), [data.tasks]);
  const box = useRef<HTMLElement>(null);
  const svg = useRef<SVGSVGElement>(null);
  const culled = layout.nodes.length > DRAW_ALL_MAX;
  const view = useGraphView(box, svg, culled);
  // Until the view is measured (before the first paint) a large graph draws nothing rather than everything.
  const shown = useMemo(() => (!culled ? layout : view ? inView(layout, view) : { nodes: [], edges: [] }), [layout, culled, view]);
  // A task chosen (its URL) out of the view: scroll to it, as the grid does (one in view stays where it is, so a
  // click on a node does not move the graph under the pointer).
  useLayoutEffect(() => {
    const b = box.current;
    const n = taskId && layout.nodes.find((x) => x.id === taskId);
    if (!n || !b || !svg.current) return;
    const at = graphOrigin(b, svg.current);
    const left = at.left + n.x - b.scrollLeft;
    const top = at.top + n.y - b.scrollTop;
    if (left >= 0 && top >= 0 && left + NODE_W <= b.clientWidth && top + NODE_H <= b.clientHeight) return;
    b.scrollTo({ left: at.left + n.x - b.clientWidth / 2, top: at.top + n.y - b.clientHeight / 2 });
  }, [layout, taskId]);
  const run = (runId ? data.runs.find((r) => r.dag_run_id === runId) : undefined) ?? data.runs.at(-1);
  const tis = run ? data.tis.get(run.dag_run_id) : undefined;
  // A wide DAG's grid reads only its rows in view: the graph shows every task, so its run is read whole.
  useEffect(() => {
    if (data.windowed && run) data.loadRun(run.dag_run_id);
  }, [data.windowed, run?.dag_run_id]);
  return (
    <section class="graph" aria-label={`Graph of ${dagId}`} ref={box}>
      <p class="muted">{run ? `States of run ${run.dag_run_id} (${run.state})` : "No runs yet: the DAG's shape only."}</p>
      {/* biome-ignore lint/a11y/useKeyWithClickEvents: one delegated handler for the links inside; a focused link turns Enter into this click */}
      <svg
        ref={svg}
        width={layout.width}
        height={layout.height}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        onClick={(e) => {
          const a = (e.target as Element).closest("a");
          const href = a?.getAttribute("href");
          if (!href || e.button !== 0 || e.metaKey || e.ctrlKey) return;
          e.preventDefault();
          navigate(href);
        }}
      >
        <title>{`Graph of ${dagId}`}</title>
        <defs>
          <marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="6" markerHeight="6" orient="auto">
            <path d="M0,0 L8,4 L0,8 z" class="arrowhead" />
          </marker>
        </defs>
        {shown.edges.map((e) => (
          <path key={`${e.from}>${e.to}`} d={e.path} class="edge" marker-end="url(#arrow)" />
        ))}
        {shown.nodes.map((n) => {
          const ti = tis?.get(n.id);
          const state = ti?.state;
          const c = stateColor(state);
          const href = run ? dagHref(dagId, { runId: run.dag_run_id, taskId: n.id, tab: "graph" }) : dagHref(dagId, { tab: "graph" });
          return (
            <a
              key={n.id}
              href={href}
              class={`node${n.id === taskId ? " sel" : ""}`}
              data-task={n.id}
              data-state={state ?? "none"}
              aria-label={`${n.id}: ${stateLabel(state)}`}
            >
              <rect x={n.x} y={n.y} width={NODE_W} height={NODE_H} rx="6" />
              <rect x={n.x} y={n.y} width="6" height={NODE_H} rx="2" style={{ fill: c ?? "transparent" }} />
              <text x={n.x + 14} y={n.y + NODE_H / 2 + 4}>
                {n.id.length > 20 ? `${n.id.slice(0, 19)}…` : n.id}
              </text>
              <title>{`${n.id}: ${stateLabel(state)}`}</title>
            </a>
          );
        })}
      </svg>
    </section>
  );
}

/**
 * The part of the graph the scroll box shows, in the graph's own coordinates, kept up to date (a frame at most
 * behind) while it scrolls or the window resizes; null until measured or when `active` is false.
 */
function useGraphView(box: { current: HTMLElement | null }, svg: { current: SVGSVGElement | null }, active: boolean): GraphView | null {
  const [view, setView] = useState<GraphView | null>(null);
  useLayoutEffect(() => {
    const b = box.current;
    if (!active || !b) return;
    let frame = 0;
    const measure = () => {
      frame = 0;
      const s = svg.current;
      if (!s) return;
      const at = graphOrigin(b, s);
      setView({ x: b.scrollLeft - at.left, y: b.scrollTop - at.top, width: b.clientWidth, height: b.clientHeight });
    };
    const soon = () => {
      if (!frame) frame = requestAnimationFrame(measure);
    };
    measure();
    b.addEventListener("scroll", soon, { passive: true });
    window.addEventListener("resize", soon);
    return () => {
      if (frame) cancelAnimationFrame(frame);
      b.removeEventListener("scroll", soon);
      window.removeEventListener("resize", soon);
    };
  }, [active]);
  return active ? view : null;
}

/** Where the graph's (0, 0) sits in the scroll box's content (below the run line above it). */
function graphOrigin(box: HTMLElement, svg: SVGSVGElement): { left: number; top: number } {
  const outer = box.getBoundingClientRect();
  const inner = svg.getBoundingClientRect();
  return { left: inner.left - outer.left + box.scrollLeft, top: inner.top - outer.top + box.scrollTop };
}
