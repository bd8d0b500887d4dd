/** @jsxImportSource preact */
/** One task instance: its state, tries, times, note, XComs, rendered fields and live log; clear and mark for writers. */
import { useState } from "preact/hooks";
import { api, seg } from "../api";
import { elapsed, formatDuration, formatTime } from "../format";
import { useAsync, useEvents, useInterval, useSession, useThrottled } from "../hooks";
import { dagHref, navigate } from "../router";
import { capabilities } from "../session";
import { isActive } from "../states";
import type { TaskInstance } from "../types";
import { ClearDialog, MarkDialog } from "./change-dialogs";
import { ErrorBox, Loading, StateBadge } from "./common";
import { Link } from "./link";
import { MappedTaskPanel } from "./mapped-task-panel";
import { LogView } from "./log-view";
import { NoteEditor } from "./note-editor";

type TaskPanelProps = {
  dagId: string;
  runId: string;
  taskId: string;
  /** One instance of a mapped task (…/mapped/:map_index). */
  mapIndex?: number;
  /** The task is mapped: without a mapIndex, the panel lists its instances (undefined: not known yet). */
  mapped: boolean | undefined;
  tryNumber?: number;
  tab: "grid" | "graph";
};

export function TaskPanel(props: TaskPanelProps) {
  if (props.mapped === undefined && props.mapIndex === undefined) return <Loading what="the task" />;
  if (props.mapped && props.mapIndex === undefined)
    return (
      <MappedTaskPanel
        dagId={props.dagId}
        runId={props.runId}
        taskId={props.taskId}
        tab={props.tab}
        unexpanded={() => <TaskInstancePanel {...props} />}
      />
    );
  return <TaskInstancePanel {...props} />;
}

function TaskInstancePanel(props: TaskPanelProps) {
  const { dagId, runId, taskId, mapIndex } = props;
  const can = capabilities(useSession()?.role);
  const taskPath = `/dags/${seg(dagId)}/dagRuns/${seg(runId)}/taskInstances/${seg(taskId)}`;
  // A mapped instance's own paths (…/:map_index, …/:map_index/tries), and its XComs by the map_index query.
  const path = mapIndex === undefined ? taskPath : `${taskPath}/${mapIndex}`;
  const mapQuery = mapIndex === undefined ? "" : `map_index=${mapIndex}`;
  const ti = useAsync((signal) => api<TaskInstance>("GET", path, undefined, signal), [path]);
  const tries = useAsync((signal) => api<{ task_instances: TaskInstance[] }>("GET", `${path}/tries`, undefined, signal), [path]);
  const xcoms = useAsync(
    (signal) =>
      api<{ xcom_entries: { key: string }[] }>("GET", `${taskPath}/xcomEntries${mapQuery ? `?${mapQuery}` : ""}`, undefined, signal),
    [path],
  );
  const [dialog, setDialog] = useState<"clear" | "mark" | null>(null);
  const reloadAll = useThrottled(() => {
    ti.reload();
    tries.reload();
    xcoms.reload();
  }, 400);
  useEvents((e) => e.dag_id === dagId && e.run_id === runId && (e.task_id === taskId || e.type.startsWith("dag_run.")), reloadAll, [
    dagId,
    runId,
    taskId,
  ]);
  const [now, setNow] = useState(Date.now());
  const t = ti.data;
  useInterval(() => setNow(Date.now()), t && t.state === "running" ? 1000 : null);

  if (ti.error) return <ErrorBox error={ti.error} title={`Could not read ${taskId}`} />;
  if (!t) return <Loading what="the task instance" />;
  const shownTry = props.tryNumber ?? t.try_number;
  const tryList = tries.data?.task_instances ?? [];
  const liveTry = shownTry === t.try_number && isActive(t.state) && t.try_number > 0;
  const rendered = Object.entries(t.rendered_fields ?? {});
  return (
    <div class="panel-body">
      <header class="panel-head">
        <h2>
          <span class="mono">{taskId}</span>
          {mapIndex === undefined ? null : <span class="mono"> [{mapIndex}]</span>} <StateBadge state={t.state} />
        </h2>
        <p class="muted mono">
          <Link href={dagHref(dagId, { runId, tab: props.tab })}>{runId}</Link>
          {mapIndex === undefined ? null : (
            <>
              {" · "}
              <Link href={dagHref(dagId, { runId, taskId, tab: props.tab })}>all instances of {taskId}</Link>
            </>
          )}
        </p>
        {can.editRuns ? (
          <div class="actions left">
            <button type="button" onClick={() => setDialog("clear")}>
              Clear task
            </button>
            <button type="button" onClick={() => setDialog("mark")}>
              Mark as…
            </button>
          </div>
        ) : null}
      </header>
      <dl class="facts">
        <dt>Try</dt>
        <dd>
          {t.try_number} of {t.max_tries + 1}
        </dd>
        <dt>Operator</dt>
        <dd class="mono">{t.operator ?? "—"}</dd>
        <dt>Queued</dt>
        <dd>{formatTime(t.queued_when)}</dd>
        <dt>Started</dt>
        <dd>{formatTime(t.start_date)}</dd>
        <dt>Ended</dt>
        <dd>{formatTime(t.end_date)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(t.duration ?? elapsed(t.start_date, t.end_date, now))}</dd>
        <dt>Host</dt>
        <dd class="mono">{t.hostname ?? "—"}</dd>
        <dt>Pool</dt>
        <dd>{t.pool}</dd>
      </dl>
      <NoteEditor
        note={t.note}
        userNote={t.user_note ?? null}
        editable={can.editRuns}
        save={(note) => api("PATCH", `${path}?update_mask=note`, { note }).then(() => ti.reload())}
      />
      {tryList.length > 1 ? (
        <section>
          <h3>Tries</h3>
          <nav class="tries" aria-label="Tries">
            {tryList.map((x) => (
              <Link
                key={String(x.try_number)}
                class={`chip${x.try_number === shownTry ? " on" : ""}`}
                href={dagHref(dagId, { runId, taskId, mapIndex, tab: props.tab, tryNumber: x.try_number })}
                title={`${x.state ?? "no status"} · ${formatDuration(x.duration)}`}
              >
                try {x.try_number}: {x.state ?? "no status"} · {formatDuration(x.duration)}
              </Link>
            ))}
          </nav>
        </section>
      ) : null}
      {t.operator === "empty" ? (
        <p class="muted">An empty task runs nothing (the scheduler marks it success), so it has no log.</p>
      ) : shownTry > 0 ? (
        <LogView dagId={dagId} runId={runId} taskId={taskId} mapIndex={mapIndex} tryNumber={shownTry} live={liveTry} />
      ) : (
        <p class="muted">No try has started yet, so there is no log.</p>
      )}
      <section>
        <h3>XCom</h3>
        {xcoms.data?.xcom_entries.length ? (
          <dl class="facts">
            {xcoms.data.xcom_entries.map((x) => (
              <XComValue key={x.key} path={taskPath} xkey={x.key} mapQuery={mapQuery} />
            ))}
          </dl>
        ) : (
          <p class="muted">{xcoms.loading ? "Loading…" : "No XCom."}</p>
        )}
      </section>
      {rendered.length ? (
        <section aria-label="Rendered templates">
          <h3>Rendered templates</h3>
          {/* Rendered when read (api/rendered-fields.ts): what changes after a try may differ from what it ran. */}
          <p class="muted">
            Try {t.try_number}'s templated fields, rendered with its run's dates, conf and params; variables, connections and XComs as they
            are now. Secrets are masked as in the log.
          </p>
          <dl class="facts">
            {rendered.map(([k, v]) => (
              <>
                <dt key={`k-${k}`}>{k}</dt>
                <dd key={`v-${k}`} class="mono pre">
                  {typeof v === "string" ? v : JSON.stringify(v, null, 2)}
                </dd>
              </>
            ))}
          </dl>
        </section>
      ) : null}
      {dialog === "clear" ? (
        <ClearDialog
          target={{ dagId, runId, taskId, mapIndex }}
          onClose={() => setDialog(null)}
          onDone={() => {
            setDialog(null);
            navigate(dagHref(dagId, { runId, taskId, mapIndex, tab: props.tab }), true);
            reloadAll();
          }}
        />
      ) : null}
      {dialog === "mark" ? (
        <MarkDialog
          target={{ dagId, runId, taskId, mapIndex }}
          onClose={() => setDialog(null)}
          onDone={() => {
            setDialog(null);
            reloadAll();
          }}
        />
      ) : null}
    </div>
  );
}

function XComValue({ path, xkey, mapQuery }: { path: string; xkey: string; mapQuery: string }) {
  const v = useAsync(
    (signal) =>
      api<{ value: unknown }>("GET", `${path}/xcomEntries/${seg(xkey)}?stringify=true${mapQuery ? `&${mapQuery}` : ""}`, undefined, signal),
    [path, xkey, mapQuery],
  );
  return (
    <>
      <dt class="mono">{xkey}</dt>
      <dd class="mono pre">{v.error ? v.error.message : v.data ? String(v.data.value) : "…"}</dd>
    </>
  );
}
