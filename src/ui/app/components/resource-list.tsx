/** @jsxImportSource preact */
/**
 * The list page every admin resource shares (variables, connections, users): a header with an Add button, a
 * table with Edit and Delete per row, and the edit dialog. Pages supply only what differs: columns, fields,
 * and how to load, save and delete. A role that may not use the page gets a line saying which role it needs.
 */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { useAsync } from "../hooks";
import { ErrorBox, NeedsRole } from "./common";
import { confirmDelete, EditDialog, type FieldDef } from "./edit-form";

export interface Column<T> {
  header: string;
  class?: string;
  cell: (row: T) => ComponentChildren;
}

/** What the edit dialog shows for one record, or for a new one. */
export interface DialogSpec {
  fields: FieldDef[];
  initial: Record<string, string>;
  /** `changed`: the fields the user changed (on an edit, send only these). */
  save: (values: Record<string, string>, changed: string[]) => Promise<unknown>;
}

type ListProps<T> = {
  title: string;
  /** Singular, lower-case: "Add <noun>", "Delete <noun> <key>?". */
  noun: string;
  /** Shown when the list is empty; none when omitted. */
  emptyText?: string;
  load: (signal: AbortSignal) => Promise<T[]>;
  keyOf: (row: T) => string;
  deletePath: (row: T) => string;
  canDelete?: (row: T) => boolean;
  columns: Column<T>[];
  dialog: (editing: T | "new") => DialogSpec;
};

/** `roles` names who may use the page ("Op or Admin"); `allowed` is whether the signed-in role is one of them. */
export function ResourceList<T>(props: ListProps<T> & { allowed: boolean; roles: string }) {
  return props.allowed ? <ListPage {...props} /> : <NeedsRole title={props.title} roles={props.roles} />;
}

function ListPage<T>(props: ListProps<T>) {
  const list = useAsync(props.load, []);
  // The server refused the list (a role changed since sign-in): nothing here would be allowed either.
  const refused = list.error instanceof ApiError && list.error.status === 403;
  const [editing, setEditing] = useState<T | "new" | null>(null);
  const [error, setError] = useState<unknown>(null);
  const remove = async (row: T) => {
    if (!confirmDelete(`${props.noun} ${props.keyOf(row)}`)) return;
    await api("DELETE", props.deletePath(row)).then(list.reload, setError);
  };
  const spec = editing === null ? null : props.dialog(editing);
  return (
    <section class="page">
      <div class="page-head">
        <h1>{props.title}</h1>
        <span class="spacer" />
        {refused ? null : (
          <button type="button" class="primary" onClick={() => setEditing("new")}>
            Add {props.noun}
          </button>
        )}
      </div>
      <ErrorBox error={list.error ?? error} />
      <table class="table">
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c.header}>{c.header}</th>
            ))}
            <th>
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(list.data ?? []).map((row) => (
            <tr key={props.keyOf(row)}>
              {props.columns.map((c) => (
                <td key={c.header} class={c.class}>
                  {c.cell(row)}
                </td>
              ))}
              <td class="row-actions">
                <button type="button" onClick={() => setEditing(row)}>
                  Edit
                </button>
                {(props.canDelete?.(row) ?? true) ? (
                  <button type="button" class="danger" onClick={() => remove(row)}>
                    Delete
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.emptyText && list.data?.length === 0 ? <p class="muted">{props.emptyText}</p> : null}
      {editing !== null && spec ? (
        <EditDialog
          title={editing === "new" ? `Add ${props.noun}` : `Edit ${props.keyOf(editing)}`}
          submitLabel="Save"
          fields={spec.fields}
          initial={spec.initial}
          onClose={() => setEditing(null)}
          onSubmit={(v, changed) => spec.save(v, changed).then(list.reload)}
        />
      ) : null}
    </section>
  );
}
