/** @jsxImportSource preact */
/** One task instance: its state, tries, times, note, XComs, rendered fields and live log; clear and mark for writers. */
import { useState } from "preact/hooks";
import { api, seg } from "../api";
import { elapsed, formatDuration, formatTime } from "../format";
import { useAsync, useEvents, useInterval, useSession, useThrottled } from "../hooks";
import { dagHref, navigate } from "../router";
import { describeMapped } from "../mapped";
import { capabilities } from "../session";
import { isActive } from "../states";
import type { TaskInstance } from "../types";
import { ClearDialog, MarkDialog } from "./change-dialogs";
import { ErrorBox, Loading, StateBadge } from "./common";
import { Link } from "./link";
import { LogView } from "./log-view";
import { NoteEditor } from "./note-editor";

export function TaskPanel(props: { dagId: string; runId: string; taskId: string; tryNumber?: number; tab: "grid" | "graph" }) {
  const { dagId, runId, taskId } = props;
  const can = capabilities(useSession()?.role);
  const path = `/dags/${seg(dagId)}/dagRuns/${seg(runId)}/taskInstances/${seg(taskId)}`;
  const ti = useAsync((signal) => api<TaskInstance>("GET", path, undefined, signal), [path]);
  const tries = useAsync((signal) => api<{ task_instances: TaskInstance[] }>("GET", `${path}/tries`, undefined, signal), [path]);
  const xcoms = useAsync((signal) => api<{ xcom_entries: { key: string }[] }>("GET", `${path}/xcomEntries`, undefined, signal), [path]);
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
          <span class="mono">{taskId}</span> <StateBadge state={t.state} />
        </h2>
        <p class="muted mono">
          <Link href={dagHref(dagId, { runId, tab: props.tab })}>{runId}</Link>
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
        {t.mapped_count ? (
          <>
            <dt>Mapped</dt>
            <dd>
              {t.mapped_count} instances ({describeMapped(t)})
            </dd>
          </>
        ) : null}
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
                href={dagHref(dagId, { runId, taskId, tab: props.tab, tryNumber: x.try_number })}
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
        <LogView dagId={dagId} runId={runId} taskId={taskId} tryNumber={shownTry} live={liveTry} />
      ) : (
        <p class="muted">No try has started yet, so there is no log.</p>
      )}
      <section>
        <h3>XCom</h3>
        {xcoms.data?.xcom_entries.length ? (
          <dl class="facts">
            {xcoms.data.xcom_entries.map((x) => (
              <XComValue key={x.key} path={path} xkey={x.key} />
            ))}
          </dl>
        ) : (
          <p class="muted">{xcoms.loading ? "Loading…" : "No XCom."}</p>
        )}
      </section>
      {rendered.length ? (
        <section>
          <h3>Rendered fields</h3>
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
          target={{ dagId, runId, taskId }}
          onClose={() => setDialog(null)}
          onDone={() => {
            setDialog(null);
            navigate(dagHref(dagId, { runId, taskId, tab: props.tab }), true);
            reloadAll();
          }}
        />
      ) : null}
      {dialog === "mark" ? (
        <MarkDialog
          target={{ dagId, runId, taskId }}
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

function XComValue({ path, xkey }: { path: string; xkey: string }) {
  const v = useAsync(
    (signal) => api<{ value: unknown }>("GET", `${path}/xcomEntries/${seg(xkey)}?stringify=true`, undefined, signal),
    [path, xkey],
  );
  return (
    <>
      <dt class="mono">{xkey}</dt>
      <dd class="mono pre">{v.error ? v.error.message : v.data ? String(v.data.value) : "…"}</dd>
    </>
  );
}
