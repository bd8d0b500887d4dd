/** @jsxImportSource preact */
/**
 * Trigger a DAG run with a form generated from the DAG's params: one input per param of its type, the
 * defaults filled in, and the API's validation errors shown under the field they are about.
 */
import { useState } from "preact/hooks";
import { api, ApiError, seg } from "../api";
import { useAsync } from "../hooks";
import { errorsByParam, fieldKind, initialText, parseField, type ParamSpec } from "../params-form";
import type { DagRun } from "../types";
import { Dialog, ErrorBox, Field, Loading } from "./common";

export function TriggerDialog({ dagId, onClose, onTriggered }: { dagId: string; onClose: () => void; onTriggered: (run: DagRun) => void }) {
  const details = useAsync(
    (signal) => api<{ params: Record<string, ParamSpec> }>("GET", `/dags/${seg(dagId)}/details`, undefined, signal),
    [dagId],
  );
  return (
    <Dialog title={`Trigger ${dagId}`} onClose={onClose} wide>
      {details.error ? <ErrorBox error={details.error} title="Could not read the DAG's params" /> : null}
      {details.data ? (
        <TriggerForm dagId={dagId} params={details.data.params ?? {}} onClose={onClose} onTriggered={onTriggered} />
      ) : details.error ? null : (
        <Loading what="params" />
      )}
    </Dialog>
  );
}

function TriggerForm(props: { dagId: string; params: Record<string, ParamSpec>; onClose: () => void; onTriggered: (run: DagRun) => void }) {
  const names = Object.keys(props.params);
  const [text, setText] = useState<Record<string, string>>(() =>
    Object.fromEntries(names.map((n) => [n, initialText(props.params[n] as ParamSpec)])),
  );
  const [checked, setChecked] = useState<Record<string, boolean>>(() =>
    Object.fromEntries(names.map((n) => [n, (props.params[n] as ParamSpec).value === true])),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const conf: Record<string, unknown> = {};
    const local: Record<string, string> = {};
    for (const name of names) {
      const r = parseField(props.params[name] as ParamSpec, text[name] ?? "", checked[name] ?? false);
      if (!r.ok) local[name] = r.error;
      else if (!r.omit) conf[name] = r.value;
    }
    setErrors(local);
    if (Object.keys(local).length) return;
    const runId = String(form.get("run_id") ?? "").trim();
    const note = String(form.get("note") ?? "").trim();
    setBusy(true);
    try {
      const run = await api<DagRun>("POST", `/dags/${seg(props.dagId)}/dagRuns`, {
        logical_date: null,
        conf,
        ...(runId ? { dag_run_id: runId } : {}),
        ...(note ? { note } : {}),
      });
      props.onTriggered(run);
    } catch (err) {
      const byParam = err instanceof ApiError ? errorsByParam(err.detail) : { "": String(err) };
      // 422 about dag_run_id or note lands under "" with its location.
      setErrors(byParam);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      {names.length === 0 ? <p class="muted">This DAG has no params; the run gets an empty conf.</p> : null}
      {names.map((name) => {
        const p = props.params[name] as ParamSpec;
        const id = `param-${name}`;
        const kind = fieldKind(p);
        const err = errors[name];
        const common = { id, name, "aria-invalid": err ? true : undefined, "aria-describedby": err ? `${id}-error` : undefined };
        const set = (v: string) => setText((t) => ({ ...t, [name]: v }));
        const hint = [p.description, p.schema.type ? `type ${p.schema.type}` : null, rangeHint(p)].filter(Boolean).join(" · ");
        return (
          <Field key={name} id={id} label={name} error={err} hint={hint}>
            {kind === "boolean" ? (
              <input
                {...common}
                type="checkbox"
                checked={checked[name]}
                onChange={(e) => setChecked((c) => ({ ...c, [name]: e.currentTarget.checked }))}
              />
            ) : kind === "enum" ? (
              <select {...common} value={text[name]} onChange={(e) => set(e.currentTarget.value)}>
                <option value="">(default)</option>
                {(p.schema.enum ?? []).map((v, i) => (
                  <option key={String(i)} value={String(i)}>
                    {typeof v === "string" ? v : JSON.stringify(v)}
                  </option>
                ))}
              </select>
            ) : kind === "json" ? (
              <textarea {...common} rows={4} value={text[name]} onInput={(e) => set(e.currentTarget.value)} spellcheck={false} />
            ) : kind === "null" ? (
              <input {...common} disabled value="null" />
            ) : (
              <input
                {...common}
                type={(kind === "integer" || kind === "number" ? "number" : "text") as "number"}
                step={kind === "integer" ? "1" : kind === "number" ? "any" : undefined}
                value={text[name]}
                onInput={(e) => set(e.currentTarget.value)}
              />
            )}
          </Field>
        );
      })}
      <details class="advanced">
        <summary>Run id and note</summary>
        <Field id="run_id" label="Run id (optional)">
          <input id="run_id" name="run_id" placeholder="manual__… (generated)" />
        </Field>
        <Field id="note" label="Note (optional)">
          <input id="note" name="note" />
        </Field>
      </details>
      <ErrorBox error={errors[""]} title="The server refused the run" />
      <div class="actions">
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Triggering…" : "Trigger"}
        </button>
      </div>
    </form>
  );
}

function rangeHint(p: ParamSpec): string | null {
  const { minimum, maximum } = p.schema;
  if (minimum !== undefined && maximum !== undefined) return `${minimum} to ${maximum}`;
  if (minimum !== undefined) return `at least ${minimum}`;
  if (maximum !== undefined) return `at most ${maximum}`;
  return null;
}
