/** @jsxImportSource preact */
/**
 * Connections (Op and Admin). The password is write-only: the API never returns it, the form starts empty,
 * and an empty password field on edit leaves the stored one as it is.
 */
import { useState } from "preact/hooks";
import { api, listAll, seg } from "../api";
import { ErrorBox } from "../components/common";
import { confirmDelete, EditDialog } from "../components/edit-form";
import { useAsync } from "../hooks";

interface Connection {
  connection_id: string;
  conn_type: string;
  description: string | null;
  host: string | null;
  login: string | null;
  schema: string | null;
  port: number | null;
  password: string | null;
  extra: string | null;
}

const TEXT_FIELDS = ["conn_type", "description", "host", "login", "schema", "extra"] as const;

export function ConnectionsPage() {
  const list = useAsync((signal) => listAll<Connection>("/connections?order_by=connection_id", "connections", 1000, signal), []);
  const [editing, setEditing] = useState<Connection | "new" | null>(null);
  const [error, setError] = useState<unknown>(null);
  const remove = async (c: Connection) => {
    if (!confirmDelete(`connection ${c.connection_id}`)) return;
    await api("DELETE", `/connections/${seg(c.connection_id)}`).then(list.reload, setError);
  };
  const isNew = editing === "new";
  return (
    <section class="page">
      <div class="page-head">
        <h1>Connections</h1>
        <span class="spacer" />
        <button type="button" class="primary" onClick={() => setEditing("new")}>
          Add connection
        </button>
      </div>
      <ErrorBox error={list.error ?? error} />
      <table class="table">
        <thead>
          <tr>
            <th>Id</th>
            <th>Type</th>
            <th>Host</th>
            <th>Login</th>
            <th>Password</th>
            <th>
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(list.data ?? []).map((c) => (
            <tr key={c.connection_id}>
              <td class="mono">{c.connection_id}</td>
              <td>{c.conn_type}</td>
              <td class="mono">{c.host ?? ""}</td>
              <td>{c.login ?? ""}</td>
              <td class="muted">{c.password ? "set" : "none"}</td>
              <td class="row-actions">
                <button type="button" onClick={() => setEditing(c)}>
                  Edit
                </button>
                <button type="button" class="danger" onClick={() => remove(c)}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data?.length === 0 ? <p class="muted">No connections yet.</p> : null}
      {editing ? (
        <EditDialog
          title={isNew ? "Add connection" : `Edit ${editing.connection_id}`}
          submitLabel="Save"
          fields={[
            { name: "connection_id", label: "Connection id", required: true, disabled: !isNew },
            { name: "conn_type", label: "Type", required: true, hint: "e.g. postgres, http, aws" },
            { name: "description", label: "Description" },
            { name: "host", label: "Host" },
            { name: "schema", label: "Schema" },
            { name: "login", label: "Login" },
            {
              name: "password",
              label: "Password",
              type: "password",
              hint: isNew ? "write-only: it is never shown again" : "write-only: leave empty to keep the stored password",
            },
            { name: "port", label: "Port", type: "number" },
            { name: "extra", label: "Extra (JSON)", type: "textarea" },
          ]}
          initial={
            isNew
              ? { connection_id: "", conn_type: "", password: "" }
              : {
                  connection_id: editing.connection_id,
                  password: "",
                  port: editing.port == null ? "" : String(editing.port),
                  ...Object.fromEntries(TEXT_FIELDS.map((f) => [f, editing[f] ?? ""])),
                }
          }
          onClose={() => setEditing(null)}
          onSubmit={(v) => {
            const body: Record<string, unknown> = { connection_id: v.connection_id, port: v.port ? Number(v.port) : null };
            for (const f of TEXT_FIELDS) body[f] = f === "conn_type" ? v[f] : v[f] || null;
            if (v.password) body.password = v.password;
            return (isNew ? api("POST", "/connections", body) : api("PATCH", `/connections/${seg(String(v.connection_id))}`, body)).then(
              list.reload,
            );
          }}
        />
      ) : null}
    </section>
  );
}
