/** @jsxImportSource preact */
/** The DAG's shape (layered by dependency depth, left to right), each task coloured by its state in the chosen run. */
import { useEffect, useMemo } from "preact/hooks";
import type { DagData } from "../dag-data";
import { layoutGraph, NODE_H, NODE_W } from "../graph-layout";
import { dagHref, navigate } from "../router";
import { stateColor, stateLabel } from "../states";

export function Graph({ dagId, data, runId, taskId }: { dagId: string; data: DagData; runId?: string; taskId?: string }) {
  const layout = useMemo(() => layoutGraph(data.tasks), [data.tasks]);
  const run = (runId ? data.runs.find((r) => r.dag_run_id === runId) : undefined) ?? data.runs.at(-1);
  const tis = run ? data.tis.get(run.dag_run_id) : undefined;
  // A wide DAG's grid reads only its rows in view: the graph shows every task, so its run is read whole.
  useEffect(() => {
    if (data.windowed && run) data.loadRun(run.dag_run_id);
  }, [data.windowed, run?.dag_run_id]);
  return (
    <section class="graph" aria-label={`Graph of ${dagId}`}>
      <p class="muted">{run ? `States of run ${run.dag_run_id} (${run.state})` : "No runs yet: the DAG's shape only."}</p>
      {/* biome-ignore lint/a11y/useKeyWithClickEvents: one delegated handler for the links inside; a focused link turns Enter into this click */}
      <svg
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
        {layout.edges.map((e) => (
          <path key={`${e.from}>${e.to}`} d={e.path} class="edge" marker-end="url(#arrow)" />
        ))}
        {layout.nodes.map((n) => {
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
