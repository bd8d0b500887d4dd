/** @jsxImportSource preact */
/** One DAG run: state, type, times, conf and note; clear and mark for writers. */
import { useState } from "preact/hooks";
import { api, seg } from "../api";
import { formatDuration, formatTime } from "../format";
import { useAsync, useEvents, useSession, useThrottled } from "../hooks";
import { capabilities } from "../session";
import type { DagRun } from "../types";
import { ClearDialog, MarkDialog } from "./change-dialogs";
import { ErrorBox, Loading, PAUSED_WAIT, StateBadge } from "./common";
import { NoteEditor } from "./note-editor";

export function RunPanel({ dagId, runId, paused }: { dagId: string; runId: string; paused?: boolean }) {
  const can = capabilities(useSession()?.role);
  const path = `/dags/${seg(dagId)}/dagRuns/${seg(runId)}`;
  const run = useAsync((signal) => api<DagRun>("GET", path, undefined, signal), [path]);
  const reload = useThrottled(() => run.reload(), 400);
  useEvents((e) => e.dag_id === dagId && e.run_id === runId && e.type.startsWith("dag_run."), reload, [dagId, runId]);
  const [dialog, setDialog] = useState<"clear" | "mark" | null>(null);
  if (run.error) return <ErrorBox error={run.error} title={`Could not read run ${runId}`} />;
  const r = run.data;
  if (!r) return <Loading what="the run" />;
  return (
    <div class="panel-body">
      <header class="panel-head">
        <h2>
          Run <span class="mono">{r.dag_run_id}</span> <StateBadge state={r.state} />
        </h2>
        {can.editRuns ? (
          <div class="actions left">
            <button type="button" onClick={() => setDialog("clear")}>
              Clear run
            </button>
            <button type="button" onClick={() => setDialog("mark")}>
              Mark run as…
            </button>
          </div>
        ) : null}
      </header>
      {r.state === "queued" && paused ? <p class="notice warn">{PAUSED_WAIT}</p> : null}
      <dl class="facts">
        <dt>Type</dt>
        <dd>{r.run_type}</dd>
        <dt>Logical date</dt>
        <dd>{formatTime(r.logical_date)}</dd>
        <dt>Queued</dt>
        <dd>{formatTime(r.queued_at)}</dd>
        <dt>Started</dt>
        <dd>{formatTime(r.start_date)}</dd>
        <dt>Ended</dt>
        <dd>{formatTime(r.end_date)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(r.duration)}</dd>
      </dl>
      <NoteEditor
        note={r.note}
        editable={can.editRuns}
        save={(note) => api("PATCH", `${path}?update_mask=note`, { note }).then(() => run.reload())}
      />
      <section>
        <h3>Conf</h3>
        <pre class="code">{JSON.stringify(r.conf ?? {}, null, 2)}</pre>
      </section>
      {dialog === "clear" ? (
        <ClearDialog target={{ dagId, runId }} onClose={() => setDialog(null)} onDone={() => (setDialog(null), run.reload())} />
      ) : null}
      {dialog === "mark" ? (
        <MarkDialog target={{ dagId, runId }} onClose={() => setDialog(null)} onDone={() => (setDialog(null), run.reload())} />
      ) : null}
    </div>
  );
}
