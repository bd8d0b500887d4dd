/** @jsxImportSource preact */
/**
 * The audit log (GET /eventLogs, Admin): who changed what and when, newest first, filtered by DAG, event or user
 * (the filters kept in the URL).
 */
import { useState } from "preact/hooks";
import { api } from "../api";
import { ErrorBox, NeedsRole } from "../components/common";
import { formatTime } from "../format";
import { useAsync, useSession } from "../hooks";
import { capabilities } from "../session";
import { useQuery, useQueryText } from "../url-query";

interface EventLog {
  event_log_id: number;
  when: string;
  event: string;
  owner: string | null;
  dag_id: string | null;
  run_id: string | null;
  task_id: string | null;
  extra: string | null;
}

const PAGE = 100;

export function AuditPage() {
  return capabilities(useSession()?.role).users ? <AuditLog /> : <NeedsRole title="Audit log" roles="Admin" />;
}

function AuditLog() {
  // The filters live in the URL, under the API's names: a reload keeps them and a link shares them.
  const url = useQuery();
  const boxes = {
    dag: useQueryText(url, "dag_id_pattern", 250),
    event: useQueryText(url, "event_pattern", 250),
    owner: useQueryText(url, "owner_pattern", 250),
  };
  const [limit, setLimit] = useState(PAGE);
  const query = { dag: boxes.dag[2], event: boxes.event[2], owner: boxes.owner[2] };
  const logs = useAsync(
    (signal) => {
      const q = new URLSearchParams({ order_by: "-when", limit: String(limit) });
      if (query.dag) q.set("dag_id_pattern", query.dag);
      if (query.event) q.set("event_pattern", query.event);
      if (query.owner) q.set("owner_pattern", query.owner);
      return api<{ event_logs: EventLog[]; total_entries: number }>("GET", `/eventLogs?${q}`, undefined, signal);
    },
    [query, limit],
  );
  const rows = logs.data?.event_logs ?? [];
  const field = (key: keyof typeof boxes, label: string) => (
    <input
      type="search"
      placeholder={label}
      aria-label={`Filter by ${label.toLowerCase()}`}
      value={boxes[key][0]}
      onInput={(e) => boxes[key][1](e.currentTarget.value)}
    />
  );
  return (
    <section class="page">
      <div class="page-head">
        <h1>Audit log</h1>
        <span class="muted">{logs.data ? `${logs.data.total_entries} events` : logs.loading ? "loading…" : ""}</span>
      </div>
      <div class="toolbar">
        {field("dag", "DAG")}
        {field("event", "Event")}
        {field("owner", "User")}
      </div>
      <ErrorBox error={logs.error} title="Could not read the audit log" />
      <div class="table-box">
        <table class="table">
          <thead>
            <tr>
              <th>When</th>
              <th>Event</th>
              <th>User</th>
              <th>DAG</th>
              <th>Run</th>
              <th>Task</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.event_log_id}>
                <td class="mono nowrap">{formatTime(e.when)}</td>
                <td>{e.event}</td>
                <td>{e.owner ?? "—"}</td>
                <td class="mono">{e.dag_id ?? "—"}</td>
                <td class="mono clip">{e.run_id ?? "—"}</td>
                <td class="mono">{e.task_id ?? "—"}</td>
                <td class="mono clip" title={e.extra ?? undefined}>
                  {e.extra ?? ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {logs.data && rows.length < logs.data.total_entries ? (
        <button type="button" onClick={() => setLimit(limit + PAGE)}>
          Show {PAGE} more
        </button>
      ) : null}
    </section>
  );
}
