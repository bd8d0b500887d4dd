/** @jsxImportSource preact */
/**
 * Trigger a DAG run with a form generated from the DAG's params: one input per param of its type, the
 * defaults filled in, and the API's validation errors shown under the field they are about. Under Advanced
 * options, as in Airflow 3: the logical date, the run id, the conf as JSON (the form's values, editable, any key)
 * and a note.
 */
import { useState } from "preact/hooks";
import { api, ApiError, seg } from "../api";
import { useAsync, useSession } from "../hooks";
import { fieldKind, initialText, type ParamSpec, parseConf, parseField, textOf, triggerErrors, typeHint } from "../params-form";
import { capabilities } from "../session";
import type { DagRun } from "../types";
import { Dialog, ErrorBox, Field, Loading } from "./common";

interface Props {
  dagId: string;
  /** A paused DAG's run waits, queued, until it is unpaused: the dialog says so and offers to unpause it. */
  paused: boolean;
  /** Told when the dialog unpaused the DAG (the page's switch follows). */
  onUnpaused: () => void;
  onClose: () => void;
  onTriggered: (run: DagRun) => void;
}

export function TriggerDialog(props: Props) {
  const { dagId } = props;
  const details = useAsync(
    (signal) => api<{ params: Record<string, ParamSpec> }>("GET", `/dags/${seg(dagId)}/details`, undefined, signal),
    [dagId],
  );
  return (
    <Dialog title={`Trigger ${dagId}`} onClose={props.onClose} wide>
      {details.error ? <ErrorBox error={details.error} title="Could not read the DAG's params" /> : null}
      {details.data ? <TriggerForm {...props} params={details.data.params ?? {}} /> : details.error ? null : <Loading what="params" />}
    </Dialog>
  );
}

function TriggerForm(props: Props & { params: Record<string, ParamSpec> }) {
  const canPause = capabilities(useSession()?.role).editDags;
  // As Airflow 3's trigger form: a paused DAG is unpaused with the run unless the user unticks it.
  const [unpause, setUnpause] = useState(true);
  const names = Object.keys(props.params);
  const spec = (n: string) => props.params[n] as ParamSpec;
  const [text, setText] = useState<Record<string, string>>(() => Object.fromEntries(names.map((n) => [n, initialText(spec(n))])));
  const [checked, setChecked] = useState<Record<string, boolean>>(() => Object.fromEntries(names.map((n) => [n, spec(n).value === true])));
  /** The params form's conf, and what it cannot read (by param). */
  const fromForm = (t: Record<string, string>, c: Record<string, boolean>) => {
    const conf: Record<string, unknown> = {};
    const bad: Record<string, string> = {};
    for (const n of names) {
      const r = parseField(spec(n), t[n] ?? "", c[n] ?? false);
      if (!r.ok) bad[n] = r.error;
      else if (!r.omit) conf[n] = r.value;
    }
    return { conf, bad };
  };
  // The conf JSON (Airflow 3's "Configuration JSON"): the form's values, kept in step both ways, plus any key typed here.
  const [confText, setConfText] = useState(() => pretty(fromForm(text, checked).conf));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [advanced, setAdvanced] = useState(false);
  const [busy, setBusy] = useState(false);

  const formChanged = (t: Record<string, string>, c: Record<string, boolean>) => {
    setText(t);
    setChecked(c);
    const { conf, bad } = fromForm(t, c);
    const typed = parseConf(confText);
    // What the form cannot read yet, or a JSON box that does not parse, is left as typed.
    if (Object.keys(bad).length || !typed.ok) return;
    const extra = Object.fromEntries(Object.entries(typed.value).filter(([k]) => !names.includes(k)));
    setConfText(pretty({ ...conf, ...extra }));
  };
  const jsonChanged = (v: string) => {
    setConfText(v);
    setErrors(({ conf: _, ...rest }) => rest);
    const typed = parseConf(v);
    if (!typed.ok) return;
    const t = { ...text };
    const c = { ...checked };
    for (const n of names)
      if (n in typed.value) {
        t[n] = textOf(spec(n), typed.value[n]);
        c[n] = typed.value[n] === true;
      }
    setText(t);
    setChecked(c);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const local = fromForm(text, checked).bad;
    const conf = parseConf(confText);
    if (!conf.ok) local.conf = conf.error;
    setErrors(local);
    if (!conf.ok || Object.keys(local).length) {
      if (local.conf) setAdvanced(true);
      return;
    }
    const runId = String(form.get("run_id") ?? "").trim();
    const note = String(form.get("note") ?? "").trim();
    const date = String(form.get("logical_date") ?? "");
    setBusy(true);
    try {
      if (props.paused && canPause && unpause) {
        await api("PATCH", `/dags/${seg(props.dagId)}?update_mask=is_paused`, { is_paused: false });
        props.onUnpaused();
      }
      const run = await api<DagRun>("POST", `/dags/${seg(props.dagId)}/dagRuns`, {
        // datetime-local is the browser's time zone: sent as UTC.
        logical_date: date ? new Date(date).toISOString() : null,
        conf: conf.value,
        ...(runId ? { dag_run_id: runId } : {}),
        ...(note ? { note } : {}),
      });
      props.onTriggered(run);
    } catch (err) {
      const byField =
        err instanceof ApiError ? triggerErrors(err.detail, names, { runId: !!runId, logicalDate: !!date }) : { "": String(err) };
      setErrors(byField);
      if (ADVANCED.some((f) => byField[f])) setAdvanced(true);
    } finally {
      setBusy(false);
    }
  };
  /** The attributes of an input of the form's own fields (`id` is the body's field, and its error's key). */
  const own = (id: string) => ({
    id,
    name: id,
    "aria-invalid": errors[id] ? true : undefined,
    "aria-describedby": errors[id] ? `${id}-error` : undefined,
  });

  return (
    <form onSubmit={submit} noValidate>
      {props.paused ? (
        <div class="notice warn">
          <strong class="mono">{props.dagId}</strong> is paused: a run triggered now is queued and waits until the DAG is unpaused.
          {canPause ? (
            <label class="check">
              <input type="checkbox" checked={unpause} onChange={(e) => setUnpause(e.currentTarget.checked)} />
              Unpause {props.dagId} on trigger
            </label>
          ) : null}
        </div>
      ) : null}
      {names.length === 0 ? (
        <p class="muted">This DAG has no params: its run's conf is the Configuration JSON under Advanced options.</p>
      ) : null}
      {names.map((name) => {
        const p = spec(name);
        const id = `param-${name}`;
        const kind = fieldKind(p);
        const err = errors[name];
        const common = { id, name, "aria-invalid": err ? true : undefined, "aria-describedby": err ? `${id}-error` : undefined };
        const set = (v: string) => formChanged({ ...text, [name]: v }, checked);
        const hint = [p.description, typeHint(p), rangeHint(p)].filter(Boolean).join(" · ");
        return (
          <Field key={name} id={id} label={name} error={err} hint={hint}>
            {kind === "boolean" ? (
              <input
                {...common}
                type="checkbox"
                checked={checked[name]}
                onChange={(e) => formChanged(text, { ...checked, [name]: e.currentTarget.checked })}
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
      <details class="advanced" open={advanced} onToggle={(e) => setAdvanced(e.currentTarget.open)}>
        <summary>Advanced options</summary>
        <Field
          id="logical_date"
          label="Logical date (optional)"
          error={errors.logical_date}
          hint={`your time zone (${Intl.DateTimeFormat().resolvedOptions().timeZone}); empty: the run has none`}
        >
          <input {...own("logical_date")} type="datetime-local" step="1" />
        </Field>
        <Field id="run_id" label="Run id (optional)" error={errors.run_id}>
          <input {...own("run_id")} placeholder="manual__… (generated)" />
        </Field>
        <Field id="conf" label="Configuration JSON" error={errors.conf} hint="the run's conf: the params above, and any other key">
          <textarea
            {...own("conf")}
            class="mono"
            rows={Math.min(12, confText.split("\n").length + 1)}
            value={confText}
            onInput={(e) => jsonChanged(e.currentTarget.value)}
            spellcheck={false}
          />
        </Field>
        <Field id="note" label="Note (optional)" error={errors.note} hint="several lines are kept as written">
          <textarea {...own("note")} rows={3} maxLength={1000} />
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

/** The form's fields under Advanced options: an error in one opens it. */
const ADVANCED = ["logical_date", "run_id", "conf", "note"];

const pretty = (v: unknown) => JSON.stringify(v, null, 2);

function rangeHint(p: ParamSpec): string | null {
  const { minimum, maximum } = p.schema;
  if (minimum !== undefined && maximum !== undefined) return `${minimum} to ${maximum}`;
  if (minimum !== undefined) return `at least ${minimum}`;
  if (maximum !== undefined) return `at most ${maximum}`;
  return null;
}
