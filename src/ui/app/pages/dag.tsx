/** @jsxImportSource preact */
/** A DAG's page: header (pause, trigger), the grid or the graph, and the details of what is selected beside it. */
import { useEffect, useState } from "preact/hooks";
import { api, seg } from "../api";
import { Backfills } from "../components/backfills";
import { nextRun } from "../components/dag-row";
import { ErrorBox, pauseSwitch, StateBadge } from "../components/common";
import { Graph } from "../components/graph";
import { Grid } from "../components/grid";
import { Link } from "../components/link";
import { RunPanel } from "../components/run-panel";
import { TaskPanel } from "../components/task-panel";
import { TriggerDialog } from "../components/trigger";
import { useDagData } from "../dag-data";
import { formatTime } from "../format";
import { useAsync, useSession } from "../hooks";
import { dagHref, navigate, type Route } from "../router";
import { capabilities } from "../session";
import type { Dag } from "../types";
import { DAG_RUN_STATES, DAG_RUN_TYPES, gridFilters, RUN_CHOICES } from "../filters";
import { setQuery, useQuery } from "../url-query";

type DagRoute = Extract<Route, { page: "dag" }>;
export function DagPage({ route }: { route: DagRoute }) {
  const { dagId, tab, runId, taskId } = route;
  const can = capabilities(useSession()?.role);
  const dag = useAsync((signal) => api<Dag>("GET", `/dags/${seg(dagId)}`, undefined, signal), [dagId]);
  const { runLimit, runState, runType, runQuery } = gridFilters(useQuery());
  const data = useDagData(dagId, runLimit, runQuery);
  const [triggering, setTriggering] = useState(false);
  const [paused, setPaused] = useState<boolean | null>(null);
  useEffect(() => setPaused(dag.data ? dag.data.is_paused : null), [dag.data]);
  const latest = data.runs.at(-1);

  const togglePause = async () => {
    if (paused === null) return;
    setPaused(!paused);
    try {
      await api("PATCH", `/dags/${seg(dagId)}?update_mask=is_paused`, { is_paused: !paused });
    } catch (e) {
      setPaused(paused);
      alert(`Could not change ${dagId}: ${(e as Error).message}`);
    }
  };

  return (
    <section class="page dag-page">
      <div class="page-head">
        <h1>
          <Link href="/dags" class="crumb">
            DAGs
          </Link>{" "}
          / <span class="mono">{dagId}</span>
        </h1>
        {latest ? <StateBadge state={latest.state} /> : null}
        <span class="muted">{dag.data?.timetable_summary ? `schedule ${dag.data.timetable_summary}` : dag.data ? "no schedule" : ""}</span>
        <span class="spacer" />
        {paused !== null ? <button {...pauseSwitch(dagId, paused, can.editDags)} aria-label="Active" onClick={togglePause} /> : null}
        {can.editRuns ? (
          <button type="button" class="primary" onClick={() => setTriggering(true)}>
            ▶ Trigger
          </button>
        ) : null}
      </div>
      <ErrorBox error={dag.error ?? data.error} title={`Could not load ${dagId}`} />
      {dag.data?.description ? <p class="muted">{dag.data.description}</p> : null}
      <div class="tabs" role="tablist" aria-label="View">
        <Link role="tab" aria-selected={tab === "grid"} href={dagHref(dagId, { runId, taskId, tab: "grid" })}>
          Grid
        </Link>
        <Link role="tab" aria-selected={tab === "graph"} href={dagHref(dagId, { runId, taskId, tab: "graph" })}>
          Graph
        </Link>
        <span class="spacer" />
        <span class="grid-filters">
          <select aria-label="Run state" value={runState} onChange={(e) => setQuery({ run_state: e.currentTarget.value })}>
            <option value="">All states</option>
            {DAG_RUN_STATES.map((st) => (
              <option key={st} value={st}>
                {st}
              </option>
            ))}
          </select>
          <select aria-label="Run type" value={runType} onChange={(e) => setQuery({ run_type: e.currentTarget.value })}>
            <option value="">All types</option>
            {DAG_RUN_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
          <label class="muted">
            Runs{" "}
            <select
              value={String(runLimit)}
              onChange={(e) => setQuery({ runs: e.currentTarget.value === String(RUN_CHOICES[0]) ? null : e.currentTarget.value })}
            >
              {RUN_CHOICES.map((n) => (
                <option key={n} value={String(n)}>
                  {n}
                </option>
              ))}
            </select>
          </label>
        </span>
      </div>
      <div class="split">
        <div class="main-view">
          {tab === "graph" ? (
            <Graph dagId={dagId} data={data} runId={runId} taskId={taskId} />
          ) : (
            <Grid dagId={dagId} data={data} runId={runId} taskId={taskId} paused={paused ?? false} />
          )}
        </div>
        <aside class="panel" aria-label="Details">
          {runId && taskId ? (
            <TaskPanel
              dagId={dagId}
              runId={runId}
              taskId={taskId}
              mapIndex={route.mapIndex}
              mapped={data.tasks.length || data.error ? data.tasks.some((t) => t.task_id === taskId && t.is_mapped) : undefined}
              tryNumber={route.tryNumber}
              tab={tab}
            />
          ) : runId ? (
            <RunPanel dagId={dagId} runId={runId} paused={paused ?? false} />
          ) : (
            <DagSummary dag={dag.data} tasks={data.tasks.length} />
          )}
        </aside>
      </div>
      {triggering ? (
        <TriggerDialog
          dagId={dagId}
          paused={paused ?? false}
          onUnpaused={() => setPaused(false)}
          onClose={() => setTriggering(false)}
          onTriggered={(run) => {
            setTriggering(false);
            navigate(dagHref(dagId, { runId: run.dag_run_id, tab }));
          }}
        />
      ) : null}
    </section>
  );
}

function DagSummary({ dag, tasks }: { dag: Dag | undefined; tasks: number }) {
  if (!dag) return null;
  return (
    <div class="panel-body">
      <h2>Details</h2>
      <dl class="facts">
        <dt>Schedule</dt>
        <dd class="mono">{dag.timetable_summary ?? "None"}</dd>
        <dt>Next run</dt>
        <dd>{formatTime(nextRun(dag))}</dd>
        <dt>Tasks</dt>
        <dd>{tasks}</dd>
        <dt>Owners</dt>
        <dd>{dag.owners.join(", ") || "—"}</dd>
        <dt>Tags</dt>
        <dd>{dag.tags.map((t) => t.name).join(", ") || "—"}</dd>
        <dt>File</dt>
        <dd class="mono">{dag.fileloc}</dd>
      </dl>
      <p class="muted">Select a run (a bar) or a task instance (a square) to see its details and log.</p>
      <Backfills dagId={dag.dag_id} />
    </div>
  );
}
