/** @jsxImportSource preact */
/** Variables (Op and Admin): list, add, edit, delete. Secret-looking values come back masked from the API. */
import { useState } from "preact/hooks";
import { api, listAll, seg } from "../api";
import { ErrorBox } from "../components/common";
import { confirmDelete, EditDialog } from "../components/edit-form";
import { useAsync } from "../hooks";

interface Variable {
  key: string;
  value: string;
  description: string | null;
}

export function VariablesPage() {
  const list = useAsync((signal) => listAll<Variable>("/variables?order_by=key", "variables", 1000, signal), []);
  const [editing, setEditing] = useState<Variable | "new" | null>(null);
  const [error, setError] = useState<unknown>(null);
  const remove = async (v: Variable) => {
    if (!confirmDelete(`variable ${v.key}`)) return;
    await api("DELETE", `/variables/${seg(v.key)}`).then(list.reload, setError);
  };
  return (
    <section class="page">
      <div class="page-head">
        <h1>Variables</h1>
        <span class="spacer" />
        <button type="button" class="primary" onClick={() => setEditing("new")}>
          Add variable
        </button>
      </div>
      <ErrorBox error={list.error ?? error} />
      <table class="table">
        <thead>
          <tr>
            <th>Key</th>
            <th>Value</th>
            <th>Description</th>
            <th>
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(list.data ?? []).map((v) => (
            <tr key={v.key}>
              <td class="mono">{v.key}</td>
              <td class="mono clip">{v.value}</td>
              <td>{v.description ?? ""}</td>
              <td class="row-actions">
                <button type="button" onClick={() => setEditing(v)}>
                  Edit
                </button>
                <button type="button" class="danger" onClick={() => remove(v)}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data?.length === 0 ? <p class="muted">No variables yet.</p> : null}
      {editing ? (
        <EditDialog
          title={editing === "new" ? "Add variable" : `Edit ${editing.key}`}
          submitLabel="Save"
          fields={[
            { name: "key", label: "Key", required: true, disabled: editing !== "new" },
            { name: "value", label: "Value", type: "textarea" },
            { name: "description", label: "Description" },
          ]}
          initial={
            editing === "new"
              ? { key: "", value: "", description: "" }
              : { key: editing.key, value: editing.value, description: editing.description ?? "" }
          }
          onClose={() => setEditing(null)}
          onSubmit={(v) => {
            const body = { key: v.key ?? "", value: v.value ?? "", description: v.description || null };
            return (editing === "new" ? api("POST", "/variables", body) : api("PATCH", `/variables/${seg(body.key)}`, body)).then(
              list.reload,
            );
          }}
        />
      ) : null}
    </section>
  );
}
