/** @jsxImportSource preact */
/**
 * The grid: one row per task (grid order), one column per run (oldest left), each cell a fixed square in
 * Airflow's state colour. Only the rows in view are drawn; the header shows each run's state and duration.
 * Hover or focus a cell for its details; click (or Enter) opens the task instance.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { DagData } from "../dag-data";
import { formatDuration, formatTime } from "../format";
import { dagHref, navigate } from "../router";
import { stateColor, stateLabel } from "../states";
import type { DagRun, TaskInstance } from "../types";
import { rowWindow } from "../virtual";

const ROW = 22;
const COL = 20;
const HEAD = 72;

interface Tip {
  x: number;
  y: number;
  run: DagRun;
  taskId: string | null;
  ti: TaskInstance | undefined;
}

export function Grid({ dagId, data, runId, taskId }: { dagId: string; data: DagData; runId?: string; taskId?: string }) {
  const box = useRef<HTMLElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  const [tip, setTip] = useState<Tip | null>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const update = () => setView({ top: Math.max(0, el.scrollTop - HEAD), height: el.clientHeight });
    update();
    const ro = new ResizeObserver(update);
    ro.observe(el);
    el.addEventListener("scroll", update, { passive: true });
    return () => {
      ro.disconnect();
      el.removeEventListener("scroll", update);
    };
  }, []);
  const { tasks, runs, tis } = data;
  const maxDuration = Math.max(1, ...runs.map((r) => r.duration ?? 0));
  const w = rowWindow(tasks.length, ROW, view.top, view.height);
  const width = runs.length * COL;

  const showTip = (el: Element | null) => {
    const cell = el?.closest<HTMLElement>("[data-run]");
    if (!cell) return setTip(null);
    const run = runs.find((r) => r.dag_run_id === cell.dataset.run);
    if (!run) return setTip(null);
    const rect = cell.getBoundingClientRect();
    const t = cell.dataset.task ?? null;
    setTip({ x: rect.right + 6, y: rect.top, run, taskId: t, ti: t ? tis.get(run.dag_run_id)?.get(t) : undefined });
  };

  const rows = [];
  for (let i = w.start; i < w.end; i++) {
    const task = tasks[i];
    if (!task) continue;
    rows.push(
      <div class={`grow${task.task_id === taskId ? " sel" : ""}`} key={task.task_id} data-row-task={task.task_id}>
        <span class="gname mono" title={task.task_id}>
          {task.task_id}
        </span>
        <span class="gcells" style={{ width: `${width}px` }}>
          {runs.map((run) => {
            const ti = tis.get(run.dag_run_id)?.get(task.task_id);
            const state = ti ? ti.state : undefined;
            const c = stateColor(state);
            const selected = run.dag_run_id === runId && task.task_id === taskId;
            return (
              // biome-ignore lint/a11y/useAnchorContent: a fixed-size colour square; aria-label names it (task, run, state)
              <a
                key={run.dag_run_id}
                class={`cell${selected ? " sel" : ""}${ti ? "" : " missing"}`}
                href={dagHref(dagId, { runId: run.dag_run_id, taskId: task.task_id })}
                data-nav=""
                data-run={run.dag_run_id}
                data-task={task.task_id}
                data-state={state ?? "none"}
                aria-label={`${task.task_id} in ${run.dag_run_id}: ${stateLabel(state)}`}
                style={c ? { background: c, borderColor: c } : undefined}
              />
            );
          })}
        </span>
      </div>,
    );
  }

  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: one delegated handler for the links inside; a focused link turns Enter into this click
    <section
      class="grid"
      ref={box}
      aria-label={`Grid of ${dagId}: ${tasks.length} tasks × ${runs.length} runs`}
      onClick={(e) => {
        const a = (e.target as Element).closest<HTMLAnchorElement>("a[data-nav]");
        if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate(a.getAttribute("href") ?? "/");
      }}
      onPointerOver={(e) => showTip(e.target as Element)}
      onPointerLeave={() => setTip(null)}
      onFocusIn={(e) => showTip(e.target as Element)}
      onFocusOut={() => setTip(null)}
    >
      <div class="ghead" style={{ height: `${HEAD}px` }}>
        <span class="gname muted">{data.loading ? "loading…" : `${tasks.length} tasks`}</span>
        <span class="gbars" style={{ width: `${width}px` }}>
          {runs.map((run) => {
            const h = Math.max(4, Math.round(((run.duration ?? 0) / maxDuration) * (HEAD - 14)));
            return (
              <a
                key={run.dag_run_id}
                class={`bar${run.dag_run_id === runId && !taskId ? " sel" : ""}`}
                href={dagHref(dagId, { runId: run.dag_run_id })}
                data-nav=""
                data-run={run.dag_run_id}
                data-state={run.state}
                aria-label={`run ${run.dag_run_id}: ${run.state}`}
              >
                <span style={{ height: `${h}px`, background: stateColor(run.state) ?? undefined }} />
              </a>
            );
          })}
        </span>
      </div>
      <div style={{ height: `${w.total}px`, position: "relative" }}>
        <div style={{ transform: `translateY(${w.offset}px)` }}>{rows}</div>
      </div>
      {tip ? <GridTip tip={tip} /> : null}
    </section>
  );
}

function GridTip({ tip }: { tip: Tip }) {
  const { run, ti } = tip;
  return (
    <div class="tip" role="tooltip" style={{ left: `${Math.min(tip.x, window.innerWidth - 300)}px`, top: `${tip.y}px` }}>
      {tip.taskId ? (
        <>
          <strong class="mono">{tip.taskId}</strong>
          <div>State: {stateLabel(ti?.state)}</div>
          <div>Try: {ti ? `${ti.try_number} of ${ti.max_tries + 1}` : "—"}</div>
          <div>Started: {formatTime(ti?.start_date)}</div>
          <div>Duration: {formatDuration(ti?.duration)}</div>
        </>
      ) : null}
      <div class="muted mono">{run.dag_run_id}</div>
      <div>
        Run: {run.state} · {run.run_type} · {formatDuration(run.duration)}
      </div>
    </div>
  );
}
