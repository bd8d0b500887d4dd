/** @jsxImportSource preact */
/**
 * Connections (Op and Admin). The password is write-only: the API never returns it, the form starts empty,
 * and an empty password field on edit leaves the stored one as it is.
 */
import { api, listAll, seg } from "../api";
import { updateMask } from "../components/edit-form";
import { type DialogSpec, ResourceList } from "../components/resource-list";
import { useSession } from "../hooks";
import { capabilities } from "../session";

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
  const can = capabilities(useSession()?.role);
  return (
    <ResourceList<Connection>
      allowed={can.ops}
      roles="Op or Admin"
      title="Connections"
      noun="connection"
      emptyText="No connections yet."
      load={(signal) => listAll<Connection>("/connections?order_by=connection_id", "connections", 1000, signal)}
      keyOf={(c) => c.connection_id}
      deletePath={(c) => `/connections/${seg(c.connection_id)}`}
      columns={[
        { header: "Id", class: "mono", cell: (c) => c.connection_id },
        { header: "Type", cell: (c) => c.conn_type },
        { header: "Host", class: "mono", cell: (c) => c.host ?? "" },
        { header: "Login", cell: (c) => c.login ?? "" },
        { header: "Password", class: "muted", cell: (c) => (c.password ? "set" : "none") },
      ]}
      dialog={(editing): DialogSpec => {
        const isNew = editing === "new";
        return {
          fields: [
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
          ],
          initial: isNew
            ? { connection_id: "", conn_type: "", password: "" }
            : {
                connection_id: editing.connection_id,
                password: "",
                port: editing.port == null ? "" : String(editing.port),
                ...Object.fromEntries(TEXT_FIELDS.map((f) => [f, editing[f] ?? ""])),
              },
          save: (v, changed) => {
            const body: Record<string, unknown> = { connection_id: v.connection_id, port: v.port ? Number(v.port) : null };
            for (const f of TEXT_FIELDS) body[f] = f === "conn_type" ? v[f] : v[f] || null;
            if (v.password) body.password = v.password;
            if (isNew) return api("POST", "/connections", body);
            // Only what the user changed (an empty password field is no change): a concurrent edit of another field stays.
            const mask = changed.filter((f) => f !== "connection_id");
            return mask.length ? api("PATCH", `/connections/${seg(String(v.connection_id))}${updateMask(mask)}`, body) : Promise.resolve();
          },
        };
      }}
    />
  );
}
