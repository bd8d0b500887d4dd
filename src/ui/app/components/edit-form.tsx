/** @jsxImportSource preact */
/** A small form in a dialog for creating or editing one record (variables, connections, pools, users). */
import { useState } from "preact/hooks";
import { ApiError } from "../api";
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
  /** `changed`: the fields whose value differs from `initial` (an edit sends only these, so it undoes no one else's). */
  onSubmit: (values: Record<string, string>, changed: string[]) => Promise<unknown>;
  onClose: () => void;
}) {
  const [values, setValues] = useState(props.initial);
  /** The server's refusal: under the field it concerns (`""`: the form's), until that field is edited or the form sent again. */
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      await props.onSubmit(values, changedFields(props.initial, values));
      props.onClose();
    } catch (err) {
      setErrors(errorsByField(err, props.fields));
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
            "aria-invalid": errors[f.name] ? true : undefined,
            "aria-describedby": errors[f.name] ? `${id}-error` : undefined,
            onInput: (e: Event) => {
              setValues({ ...values, [f.name]: (e.currentTarget as HTMLInputElement).value });
              // What the server said of this field (or of the form as a whole) was about the value sent, not this one.
              if (errors[f.name] || errors[""]) setErrors(({ [f.name]: _, "": __, ...rest }) => rest);
            },
          };
          return (
            <Field key={f.name} id={id} label={f.label} hint={f.hint} error={errors[f.name]}>
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
        <ErrorBox error={errors[""]} title="The server refused" />
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

/** The names whose value differs between two forms' values (a missing value counts as ""). Pure. */
export function changedFields(before: Record<string, string>, after: Record<string, string>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => (before[n] ?? "") !== (after[n] ?? ""));
}

/** `?update_mask=a&update_mask=b`: Airflow's way to PATCH only the named fields. Pure. */
export const updateMask = (fields: readonly string[]): string => `?${fields.map((f) => `update_mask=${encodeURIComponent(f)}`).join("&")}`;

/** Asks before deleting; returns whether to go on. */
export const confirmDelete = (what: string): boolean => window.confirm(`Delete ${what}? This cannot be undone.`);

/**
 * Where the server's refusal goes: a validation error's items under the field their `loc` names, a conflict (409: the
 * name is taken) under the record's key (the first field, when it can be edited); the rest under the form. Pure.
 */
export function errorsByField(err: unknown, fields: readonly FieldDef[]): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (key: string, msg: string) => (out[key] = out[key] ? `${out[key]}; ${msg}` : msg);
  const editable = (name: unknown) => fields.find((f) => f.name === name && !f.disabled)?.name;
  if (!(err instanceof ApiError)) return { "": err instanceof Error ? err.message : String(err) };
  if (Array.isArray(err.detail)) {
    for (const d of err.detail) {
      const loc: unknown[] = Array.isArray(d?.loc) ? d.loc : [];
      const field = editable(loc.at(-1));
      if (field && typeof d?.msg === "string") add(field, d.msg);
      else add("", typeof d?.msg === "string" ? `${loc.slice(1).join(".") || "request"}: ${d.msg}` : JSON.stringify(d));
    }
    return out;
  }
  const key = err.status === 409 ? editable(fields[0]?.name) : undefined;
  return { [key ?? ""]: err.message };
}
