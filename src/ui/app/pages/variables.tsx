/** @jsxImportSource preact */
/** Variables (Op and Admin): list, add, edit, delete. Secret-looking values come back masked from the API. */
import { api, listAll, seg } from "../api";
import { ResourceList } from "../components/resource-list";
import { useSession } from "../hooks";
import { capabilities } from "../session";

interface Variable {
  key: string;
  value: string;
  description: string | null;
}

export function VariablesPage() {
  const can = capabilities(useSession()?.role);
  return (
    <ResourceList<Variable>
      allowed={can.ops}
      roles="Op or Admin"
      title="Variables"
      noun="variable"
      emptyText="No variables yet."
      load={(signal) => listAll<Variable>("/variables?order_by=key", "variables", 1000, signal)}
      keyOf={(v) => v.key}
      deletePath={(v) => `/variables/${seg(v.key)}`}
      columns={[
        { header: "Key", class: "mono", cell: (v) => v.key },
        { header: "Value", class: "mono clip", cell: (v) => v.value },
        { header: "Description", cell: (v) => v.description ?? "" },
      ]}
      dialog={(editing) => ({
        fields: [
          { name: "key", label: "Key", required: true, disabled: editing !== "new" },
          { name: "value", label: "Value", type: "textarea" },
          { name: "description", label: "Description" },
        ],
        initial:
          editing === "new"
            ? { key: "", value: "", description: "" }
            : { key: editing.key, value: editing.value, description: editing.description ?? "" },
        save: (v) => {
          const body = { key: v.key ?? "", value: v.value ?? "", description: v.description || null };
          return editing === "new" ? api("POST", "/variables", body) : api("PATCH", `/variables/${seg(body.key)}`, body);
        },
      })}
    />
  );
}
