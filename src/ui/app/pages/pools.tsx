/** @jsxImportSource preact */
/** Pools: everyone sees their slots and use; Op and Admin add, resize and delete them. */
import { useState } from "preact/hooks";
import { api, listAll, seg } from "../api";
import { ErrorBox } from "../components/common";
import { confirmDelete, EditDialog, updateMask } from "../components/edit-form";
import { useAsync, useInterval, useSession } from "../hooks";
import { capabilities } from "../session";

interface Pool {
  name: string;
  slots: number;
  description: string | null;
  occupied_slots: number;
  running_slots: number;
  queued_slots: number;
  open_slots: number;
}

export function PoolsPage() {
  const can = capabilities(useSession()?.role);
  const list = useAsync((signal) => listAll<Pool>("/pools", "pools", 1000, signal), []);
  useInterval(list.reload, 5000);
  const [editing, setEditing] = useState<Pool | "new" | null>(null);
  const [error, setError] = useState<unknown>(null);
  const remove = async (p: Pool) => {
    if (!confirmDelete(`pool ${p.name}`)) return;
    await api("DELETE", `/pools/${seg(p.name)}`).then(list.reload, setError);
  };
  return (
    <section class="page">
      <div class="page-head">
        <h1>Pools</h1>
        <span class="spacer" />
        {can.ops ? (
          <button type="button" class="primary" onClick={() => setEditing("new")}>
            Add pool
          </button>
        ) : null}
      </div>
      <ErrorBox error={list.error ?? error} />
      <table class="table">
        <thead>
          <tr>
            <th>Pool</th>
            <th class="num">Slots</th>
            <th class="num">Running</th>
            <th class="num">Queued</th>
            <th class="num">Open</th>
            <th>Description</th>
            {can.ops ? (
              <th>
                <span class="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {(list.data ?? []).map((p) => (
            <tr key={p.name}>
              <td class="mono">{p.name}</td>
              <td class="num">{p.slots < 0 ? "unlimited" : p.slots}</td>
              <td class="num">{p.running_slots}</td>
              <td class="num">{p.queued_slots}</td>
              <td class="num">{p.open_slots < 0 ? "∞" : p.open_slots}</td>
              <td>{p.description ?? ""}</td>
              {can.ops ? (
                <td class="row-actions">
                  <button type="button" onClick={() => setEditing(p)}>
                    Edit
                  </button>
                  {p.name !== "default_pool" ? (
                    <button type="button" class="danger" onClick={() => remove(p)}>
                      Delete
                    </button>
                  ) : null}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      {editing ? (
        <EditDialog
          title={editing === "new" ? "Add pool" : `Edit ${editing.name}`}
          submitLabel="Save"
          fields={[
            { name: "name", label: "Name", required: true, disabled: editing !== "new" },
            { name: "slots", label: "Slots", type: "number", required: true, hint: "-1 for unlimited" },
            { name: "description", label: "Description" },
          ]}
          initial={
            editing === "new"
              ? { name: "", slots: "16", description: "" }
              : { name: editing.name, slots: String(editing.slots), description: editing.description ?? "" }
          }
          onClose={() => setEditing(null)}
          onSubmit={(v, changed) => {
            const body = { name: v.name ?? "", slots: Number(v.slots), description: v.description || null };
            if (editing === "new") return api("POST", "/pools", body).then(list.reload);
            // Only what the user changed: a concurrent edit of the other field is not undone.
            const mask = changed.filter((f) => f === "slots" || f === "description");
            return mask.length ? api("PATCH", `/pools/${seg(body.name)}${updateMask(mask)}`, body).then(list.reload) : Promise.resolve();
          }}
        />
      ) : null}
    </section>
  );
}
