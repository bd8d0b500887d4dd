/** @jsxImportSource preact */
/**
 * A mapped task in a run: its instances (GET …/listMapped), a page of them at a time, each linking to its own
 * panel (…/tasks/:task_id/mapped/:map_index), as Airflow 3's mapped task view lists them. A mapped task not yet
 * expanded has only its map_index -1 instance: listMapped answers 404 and that instance's panel is shown instead.
 */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError, api, seg } from "../api";
import { formatDuration, formatTime } from "../format";
import { useAsync, useEvents, useThrottled } from "../hooks";
import { dagHref } from "../router";
import type { TaskInstance } from "../types";
import { ErrorBox, Loading, StateBadge } from "./common";
import { Link } from "./link";

/** Instances a page shows. */
export const MAPPED_PAGE = 100;

export function MappedTaskPanel(props: {
  dagId: string;
  runId: string;
  taskId: string;
  tab: "grid" | "graph";
  /** What to show when the task has not expanded yet (its -1 instance). */
  unexpanded: () => ComponentChildren;
}) {
  const { dagId, runId, taskId } = props;
  const [offset, setOffset] = useState(0);
  const path = `/dags/${seg(dagId)}/dagRuns/${seg(runId)}/taskInstances/${seg(taskId)}/listMapped?limit=${MAPPED_PAGE}&offset=${offset}`;
  const list = useAsync((signal) => api<{ task_instances: TaskInstance[]; total_entries: number }>("GET", path, undefined, signal), [path]);
  const reload = useThrottled(() => list.reload(), 400);
  useEvents((e) => e.dag_id === dagId && e.run_id === runId && e.task_id === taskId, reload, [dagId, runId, taskId]);

  if (list.error instanceof ApiError && list.error.status === 404) return <>{props.unexpanded()}</>;
  if (list.error) return <ErrorBox error={list.error} title={`Could not read the instances of ${taskId}`} />;
  if (!list.data) return <Loading what="the mapped instances" />;
  const { task_instances: items, total_entries: total } = list.data;
  const last = Math.min(offset + items.length, total);
  return (
    <div class="panel-body">
      <header class="panel-head">
        <h2>
          <span class="mono">{taskId}</span> <span class="muted">mapped</span>
        </h2>
        <p class="muted mono">
          <Link href={dagHref(dagId, { runId, tab: props.tab })}>{runId}</Link>
        </p>
      </header>
      <p>
        {total} instances; {offset + 1}–{last} shown.
      </p>
      <table class="mapped-list" aria-label={`Instances of ${taskId}`}>
        <thead>
          <tr>
            <th>Map index</th>
            <th>State</th>
            <th>Try</th>
            <th>Started</th>
            <th>Duration</th>
          </tr>
        </thead>
        <tbody>
          {items.map((t) => (
            <tr key={String(t.map_index)}>
              <td class="mono">
                <Link href={dagHref(dagId, { runId, taskId, mapIndex: t.map_index ?? 0, tab: props.tab })}>{t.map_index}</Link>
              </td>
              <td>
                <StateBadge state={t.state} />
              </td>
              <td>{t.try_number}</td>
              <td>{formatTime(t.start_date)}</td>
              <td>{formatDuration(t.duration)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="actions left">
        <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - MAPPED_PAGE))}>
          Previous {MAPPED_PAGE}
        </button>
        <button type="button" disabled={last >= total} onClick={() => setOffset(offset + MAPPED_PAGE)}>
          Next {MAPPED_PAGE}
        </button>
      </div>
    </div>
  );
}
