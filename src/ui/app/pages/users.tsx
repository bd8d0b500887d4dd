/** @jsxImportSource preact */
/** Users (Admin only, /api/v2/leoflow/users): list, add, change role or password, delete. */
import { api, seg } from "../api";
import { ResourceList } from "../components/resource-list";
import { useSession } from "../hooks";
import { capabilities } from "../session";

interface User {
  username: string;
  role: string;
  created_at: string;
}

const ROLES = ["Viewer", "User", "Op", "Admin"];

export function UsersPage() {
  const me = useSession();
  const can = capabilities(me?.role);
  return (
    <ResourceList<User>
      allowed={can.users}
      roles="Admin"
      title="Users"
      noun="user"
      load={(signal) => api<{ users: User[] }>("GET", "/leoflow/users?limit=1000", undefined, signal).then((r) => r.users)}
      keyOf={(u) => u.username}
      deletePath={(u) => `/leoflow/users/${seg(u.username)}`}
      // Nobody deletes their own account from here: it would lock them out mid-session.
      canDelete={(u) => u.username !== me?.username}
      columns={[
        { header: "Username", class: "mono", cell: (u) => u.username },
        { header: "Role", cell: (u) => u.role },
        { header: "Created", cell: (u) => u.created_at.slice(0, 10) },
      ]}
      dialog={(editing) => ({
        fields: [
          { name: "username", label: "Username", required: true, disabled: editing !== "new" },
          { name: "role", label: "Role", type: "select", options: ROLES },
          {
            name: "password",
            label: "Password",
            type: "password",
            required: editing === "new",
            hint: editing === "new" ? "at least 8 characters" : "leave empty to keep the current password",
          },
        ],
        initial:
          editing === "new"
            ? { username: "", role: "Viewer", password: "" }
            : { username: editing.username, role: editing.role, password: "" },
        save: (v, changed) => {
          if (editing === "new") return api("POST", "/leoflow/users", { username: v.username, password: v.password, role: v.role });
          // Only what changed: a role someone else set meanwhile is not undone by a password change.
          const body = { ...(changed.includes("role") ? { role: v.role } : {}), ...(v.password ? { password: v.password } : {}) };
          return Object.keys(body).length ? api("PATCH", `/leoflow/users/${seg(String(v.username))}`, body) : Promise.resolve();
        },
      })}
    />
  );
}
