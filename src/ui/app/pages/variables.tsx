/** @jsxImportSource preact */
/**
 * Variables (Op and Admin): list, add, edit, delete. Secret-looking values come back masked from the API; an edit
 * sends only the fields changed, so a masked value left alone is kept.
 */
import { api, listAll, seg } from "../api";
import { updateMask } from "../components/edit-form";
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
        save: (v, changed) => {
          const body = { key: v.key ?? "", value: v.value ?? "", description: v.description || null };
          if (editing === "new") return api("POST", "/variables", body);
          // Only what the user changed: a description edited meanwhile by someone else, or a masked secret, stays as it is.
          const mask = changed.filter((f) => f === "value" || f === "description");
          return mask.length ? api("PATCH", `/variables/${seg(body.key)}${updateMask(mask)}`, body) : Promise.resolve();
        },
      })}
    />
  );
}
