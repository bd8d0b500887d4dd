/** @jsxImportSource preact */
/** A small form in a dialog for creating or editing one record (variables, connections, pools, users). */
import { useState } from "preact/hooks";
import { Dialog, ErrorBox, Field } from "./common";

export interface FieldDef {
  name: string;
  label: string;
  type?: "text" | "password" | "number" | "textarea" | "select";
  options?: string[];
  hint?: string;
  required?: boolean;
  disabled?: boolean;
}

export function EditDialog(props: {
  title: string;
  fields: FieldDef[];
  initial: Record<string, string>;
  submitLabel: string;
  onSubmit: (values: Record<string, string>) => Promise<unknown>;
  onClose: () => void;
}) {
  const [values, setValues] = useState(props.initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await props.onSubmit(values);
      props.onClose();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <form onSubmit={submit}>
        {props.fields.map((f) => {
          const id = `f-${f.name}`;
          const common = {
            id,
            name: f.name,
            required: f.required,
            disabled: f.disabled,
            value: values[f.name] ?? "",
            onInput: (e: Event) => setValues({ ...values, [f.name]: (e.currentTarget as HTMLInputElement).value }),
          };
          return (
            <Field key={f.name} id={id} label={f.label} hint={f.hint}>
              {f.type === "textarea" ? (
                <textarea {...common} rows={4} />
              ) : f.type === "select" ? (
                <select {...common} onChange={common.onInput}>
                  {(f.options ?? []).map((o) => (
                    <option key={o} value={o}>
                      {o}
                    </option>
                  ))}
                </select>
              ) : (
                <input {...common} type={(f.type ?? "text") as "text"} autocomplete={f.type === "password" ? "new-password" : "off"} />
              )}
            </Field>
          );
        })}
        <ErrorBox error={error} title="The server refused" />
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            {props.submitLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Asks before deleting; returns whether to go on. */
export const confirmDelete = (what: string): boolean => window.confirm(`Delete ${what}? This cannot be undone.`);
