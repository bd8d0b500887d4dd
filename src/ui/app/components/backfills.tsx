/** @jsxImportSource preact */
/** A DAG's backfills (GET /backfills?dag_id=…), the range, when it was made, and whether it is done or paused. */
import { api, seg } from "../api";
import { useAsync } from "../hooks";
import { formatTime } from "../format";

interface Backfill {
  id: number;
  from_date: string;
  to_date: string;
  is_paused: boolean;
  created_at: string;
  completed_at: string | null;
}

export function Backfills({ dagId }: { dagId: string }) {
  const list = useAsync(
    (signal) => api<{ backfills: Backfill[]; total_entries: number }>("GET", `/backfills?dag_id=${seg(dagId)}&limit=20`, undefined, signal),
    [dagId],
  );
  if (list.error) return <p class="muted">Backfills: could not list them ({list.error.message}).</p>;
  if (!list.data) return null;
  if (!list.data.total_entries) return <p class="muted">No backfills.</p>;
  return (
    <>
      <h3>Backfills</h3>
      <table class="table" aria-label="Backfills">
        <thead>
          <tr>
            <th>From</th>
            <th>To</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {list.data.backfills.map((b) => (
            <tr key={b.id} title={`backfill ${b.id}, created ${formatTime(b.created_at)}`}>
              <td class="mono">{formatTime(b.from_date)}</td>
              <td class="mono">{formatTime(b.to_date)}</td>
              <td>{b.completed_at ? `done ${formatTime(b.completed_at)}` : b.is_paused ? "paused" : "running"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
