/** @jsxImportSource preact */
/**
 * Clear and mark, each behind a confirmation that lists what will change: the API's dry run answers with the
 * task instances it would touch; the user sees them, then confirms the same request without dry_run. A run's mark
 * has no dry run in the API: its preview applies the server's rules to the run's task instances (run-mark.ts).
 */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, listAll, seg } from "../api";
import { runMarkChanges } from "../run-mark";
import { MARKABLE_RUN_STATES, MARKABLE_TASK_STATES } from "../states";
import type { TaskInstance } from "../types";
import { Dialog, ErrorBox, StateBadge } from "./common";

interface Target {
  dagId: string;
  runId: string;
  /** Absent: the whole run. */
  taskId?: string;
  /** One instance of a mapped task (absent: the task's every instance). */
  mapIndex?: number;
}

/** A task, or one instance of a mapped task, as the dialogs name it: `load`, `each [3]`. */
const instanceName = (taskId: string, mapIndex: number | null | undefined) =>
  mapIndex === undefined || mapIndex === null || mapIndex < 0 ? taskId : `${taskId} [${mapIndex}]`;

interface Options {
  downstream: boolean;
  upstream: boolean;
  onlyFailed: boolean;
}

export function ClearDialog({ target, onClose, onDone }: { target: Target; onClose: () => void; onDone: () => void }) {
  const [opts, setOpts] = useState<Options>({ downstream: !!target.taskId, upstream: false, onlyFailed: !target.taskId });
  const request = (dry: boolean) =>
    target.taskId
      ? api<{ task_instances: TaskInstance[] }>("POST", `/dags/${seg(target.dagId)}/clearTaskInstances`, {
          dry_run: dry,
          dag_run_id: target.runId,
          task_ids: [target.mapIndex === undefined ? target.taskId : [target.taskId, target.mapIndex]],
          include_downstream: opts.downstream,
          include_upstream: opts.upstream,
          only_failed: opts.onlyFailed,
        })
      : api<{ task_instances: TaskInstance[] }>("POST", `/dags/${seg(target.dagId)}/dagRuns/${seg(target.runId)}/clear`, {
          dry_run: dry,
          only_failed: opts.onlyFailed,
        });
  return (
    <ChangeDialog
      title={target.taskId ? `Clear ${instanceName(target.taskId, target.mapIndex)}` : `Clear run ${target.runId}`}
      verb="Clear"
      explain="These task instances go back to no status and run again (a new try each):"
      preview={() => request(true).then((r) => r.task_instances)}
      commit={() => request(false)}
      deps={[opts.downstream, opts.upstream, opts.onlyFailed]}
      onClose={onClose}
      onDone={onDone}
    >
      <fieldset class="opts">
        <legend>Include</legend>
        {target.taskId ? (
          <>
            <Check label="Downstream" checked={opts.downstream} set={(v) => setOpts({ ...opts, downstream: v })} />
            <Check label="Upstream" checked={opts.upstream} set={(v) => setOpts({ ...opts, upstream: v })} />
          </>
        ) : null}
        <Check label="Only failed" checked={opts.onlyFailed} set={(v) => setOpts({ ...opts, onlyFailed: v })} />
      </fieldset>
    </ChangeDialog>
  );
}

export function MarkDialog({ target, onClose, onDone }: { target: Target; onClose: () => void; onDone: () => void }) {
  const states = target.taskId ? MARKABLE_TASK_STATES : MARKABLE_RUN_STATES;
  const [state, setState] = useState<string>("success");
  const [opts, setOpts] = useState({ downstream: false, upstream: false });
  const tiPath = `/dags/${seg(target.dagId)}/dagRuns/${seg(target.runId)}/taskInstances/${seg(target.taskId ?? "")}${target.mapIndex === undefined ? "" : `/${target.mapIndex}`}`;
  const body = { new_state: state, include_downstream: opts.downstream, include_upstream: opts.upstream };
  return (
    <ChangeDialog
      title={target.taskId ? `Mark ${instanceName(target.taskId, target.mapIndex)}` : `Mark run ${target.runId}`}
      verb={`Mark ${state}`}
      explain={
        target.taskId
          ? `These task instances become ${state}:`
          : `The run becomes ${state}${state === "queued" ? " and is planned again" : ", and these task instances change"}:`
      }
      preview={() =>
        target.taskId
          ? api<{ task_instances: TaskInstance[] }>("PATCH", `${tiPath}/dry_run`, body).then((r) =>
              r.task_instances.map((ti) => ({ ...ti, to: state })),
            )
          : listAll<TaskInstance>(`/dags/${seg(target.dagId)}/dagRuns/${seg(target.runId)}/taskInstances`, "task_instances").then((tis) =>
              runMarkChanges(tis, state).map(({ ti, to }) => ({ ...ti, to })),
            )
      }
      runItself={!target.taskId}
      commit={() =>
        target.taskId
          ? api("PATCH", tiPath, body)
          : api("PATCH", `/dags/${seg(target.dagId)}/dagRuns/${seg(target.runId)}?update_mask=state`, { state })
      }
      deps={[state, opts.downstream, opts.upstream]}
      onClose={onClose}
      onDone={onDone}
    >
      <fieldset class="opts">
        <legend>New state</legend>
        {states.map((s) => (
          <label key={s} class="radio">
            <input type="radio" name="mark-state" value={s} checked={state === s} onChange={() => setState(s)} /> {s}
          </label>
        ))}
      </fieldset>
      {target.taskId ? (
        <fieldset class="opts">
          <legend>Include</legend>
          <Check label="Downstream" checked={opts.downstream} set={(v) => setOpts({ ...opts, downstream: v })} />
          <Check label="Upstream" checked={opts.upstream} set={(v) => setOpts({ ...opts, upstream: v })} />
        </fieldset>
      ) : null}
    </ChangeDialog>
  );
}

function Check({ label, checked, set }: { label: string; checked: boolean; set: (v: boolean) => void }) {
  return (
    <label class="radio">
      <input type="checkbox" checked={checked} onChange={(e) => set(e.currentTarget.checked)} /> {label}
    </label>
  );
}

/** A task instance the change touches; `to`: the state it gets (absent for a clear: no status). */
type Change = TaskInstance & { to?: string };

function ChangeDialog(props: {
  title: string;
  verb: string;
  explain: string;
  preview: () => Promise<Change[]>;
  /** A run's own state changes too: confirming is allowed when no task instance changes. */
  runItself?: boolean;
  commit: () => Promise<unknown>;
  deps: unknown[];
  onClose: () => void;
  onDone: () => void;
  children: ComponentChildren;
}) {
  const [list, setList] = useState<Change[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let live = true;
    setList(undefined);
    setError(null);
    props.preview().then(
      (l) => live && setList(l),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, props.deps);
  const confirm = async () => {
    setBusy(true);
    try {
      await props.commit();
      props.onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const nothing = Array.isArray(list) && list.length === 0 && !props.runItself;
  return (
    <Dialog title={props.title} onClose={props.onClose} wide>
      {props.children}
      <p>{props.explain}</p>
      {list === undefined && !error ? <p class="muted">Asking the server what would change…</p> : null}
      {Array.isArray(list) ? (
        list.length === 0 ? (
          <p class="muted">{props.runItself ? "No task instance changes." : "Nothing would change with these options."}</p>
        ) : (
          <ul class="affected" aria-label="What will change">
            {list.map((ti) => (
              <li key={`${ti.dag_run_id}/${ti.task_id}/${ti.map_index ?? -1}`}>
                <span class="mono">{instanceName(ti.task_id, ti.map_index)}</span> <span class="muted mono">{ti.dag_run_id}</span>{" "}
                <StateBadge state={ti.state} />
                {ti.to ? (
                  <>
                    {" → "}
                    <StateBadge state={ti.to} />
                  </>
                ) : null}
              </li>
            ))}
          </ul>
        )
      ) : null}
      <ErrorBox error={error} title="The server refused" />
      <div class="actions">
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button type="button" class="primary" disabled={busy || nothing || (list === undefined && !error)} onClick={confirm}>
          {busy ? "Working…" : `${props.verb}${Array.isArray(list) ? ` ${list.length}` : ""}`}
        </button>
      </div>
    </Dialog>
  );
}
