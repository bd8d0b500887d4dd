/** @jsxImportSource preact */
/** Users (Admin only, /api/v2/leoflow/users): list, add, change role or password, delete. */
import { useState } from "preact/hooks";
import { api, seg } from "../api";
import { ErrorBox } from "../components/common";
import { confirmDelete, EditDialog } from "../components/edit-form";
import { useAsync, useSession } from "../hooks";

interface User {
  username: string;
  role: string;
  created_at: string;
}

const ROLES = ["Viewer", "User", "Op", "Admin"];

export function UsersPage() {
  const me = useSession();
  const list = useAsync((signal) => api<{ users: User[] }>("GET", "/leoflow/users?limit=1000", undefined, signal), []);
  const [editing, setEditing] = useState<User | "new" | null>(null);
  const [error, setError] = useState<unknown>(null);
  const remove = async (u: User) => {
    if (!confirmDelete(`user ${u.username}`)) return;
    await api("DELETE", `/leoflow/users/${seg(u.username)}`).then(list.reload, setError);
  };
  return (
    <section class="page">
      <div class="page-head">
        <h1>Users</h1>
        <span class="spacer" />
        <button type="button" class="primary" onClick={() => setEditing("new")}>
          Add user
        </button>
      </div>
      <ErrorBox error={list.error ?? error} />
      <table class="table">
        <thead>
          <tr>
            <th>Username</th>
            <th>Role</th>
            <th>Created</th>
            <th>
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.users ?? []).map((u) => (
            <tr key={u.username}>
              <td class="mono">{u.username}</td>
              <td>{u.role}</td>
              <td>{u.created_at.slice(0, 10)}</td>
              <td class="row-actions">
                <button type="button" onClick={() => setEditing(u)}>
                  Edit
                </button>
                {u.username !== me?.username ? (
                  <button type="button" class="danger" onClick={() => remove(u)}>
                    Delete
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editing ? (
        <EditDialog
          title={editing === "new" ? "Add user" : `Edit ${editing.username}`}
          submitLabel="Save"
          fields={[
            { name: "username", label: "Username", required: true, disabled: editing !== "new" },
            { name: "role", label: "Role", type: "select", options: ROLES },
            {
              name: "password",
              label: "Password",
              type: "password",
              required: editing === "new",
              hint: editing === "new" ? "at least 8 characters" : "leave empty to keep the current password",
            },
          ]}
          initial={
            editing === "new"
              ? { username: "", role: "Viewer", password: "" }
              : { username: editing.username, role: editing.role, password: "" }
          }
          onClose={() => setEditing(null)}
          onSubmit={(v) =>
            (editing === "new"
              ? api("POST", "/leoflow/users", { username: v.username, password: v.password, role: v.role })
              : api("PATCH", `/leoflow/users/${seg(String(v.username))}`, { role: v.role, ...(v.password ? { password: v.password } : {}) })
            ).then(list.reload)
          }
        />
      ) : null}
    </section>
  );
}
