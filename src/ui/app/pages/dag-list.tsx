/** @jsxImportSource preact */
/**
 * The DAG list: search, paused filter, tags, import errors, and per DAG its pause switch, schedule, next
 * run and the state of its latest runs as squares (fetched only for the rows in view, refreshed by events).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api, eachLimited, listAll, seg } from "../api";
import { ErrorBox } from "../components/common";
import { Link } from "../components/link";
import { TriggerDialog } from "../components/trigger";
import { VirtualRows } from "../components/virtual-list";
import { useAsync, useEvents, useSession } from "../hooks";
import { dagHref, navigate } from "../router";
import { capabilities } from "../session";
import { stateColor, stateLabel } from "../states";
import { formatTime } from "../format";
import type { Dag, DagRun } from "../types";

const ROW_HEIGHT = 44;
const RECENT_RUNS = 10;
type Paused = "all" | "active" | "paused";

export function DagListPage() {
  const can = capabilities(useSession()?.role);
  const [search, setSearch] = useState(() => new URLSearchParams(location.search).get("search") ?? "");
  const [query, setQuery] = useState(search);
  const [paused, setPaused] = useState<Paused>("all");
  const [tags, setTags] = useState<string[]>([]);
  const [trigger, setTrigger] = useState<string | null>(null);
  useEffect(() => {
    const t = setTimeout(() => setQuery(search.trim()), 200);
    return () => clearTimeout(t);
  }, [search]);

  const dags = useAsync(
    (signal) => {
      const q = new URLSearchParams({ order_by: "dag_id" });
      if (query) q.set("dag_id_pattern", query);
      if (paused !== "all") q.set("paused", String(paused === "paused"));
      for (const t of tags) q.append("tags", t);
      return listAll<Dag>(`/dags?${q}`, "dags", 1000, signal);
    },
    [query, paused, tags],
  );
  const allTags = useAsync((signal) => api<{ tags: string[] }>("GET", "/dagTags?limit=1000", undefined, signal), []);
  const importErrors = useAsync((signal) => api("GET", "/importErrors?limit=100", undefined, signal), []);
  const [pausedNow, setPausedNow] = useState<Record<string, boolean>>({});
  const list = dags.data ?? [];

  const recent = useRecentRuns();

  const togglePause = async (dag: Dag) => {
    const next = !(pausedNow[dag.dag_id] ?? dag.is_paused);
    setPausedNow((p) => ({ ...p, [dag.dag_id]: next }));
    try {
      await api("PATCH", `/dags/${seg(dag.dag_id)}?update_mask=is_paused`, { is_paused: next });
    } catch (e) {
      setPausedNow((p) => ({ ...p, [dag.dag_id]: !next }));
      alert(`Could not ${next ? "pause" : "unpause"} ${dag.dag_id}: ${(e as Error).message}`);
    }
  };

  return (
    <section class="page dag-list">
      <div class="page-head">
        <h1>DAGs</h1>
        <span class="muted" aria-live="polite">
          {dags.loading && !dags.data ? "loading…" : `${list.length} DAG${list.length === 1 ? "" : "s"}`}
        </span>
      </div>
      <ImportErrors data={importErrors.data} />
      <div class="toolbar">
        <input
          type="search"
          placeholder="Search DAGs"
          aria-label="Search DAGs by id"
          value={search}
          onInput={(e) => setSearch(e.currentTarget.value)}
        />
        <fieldset class="segmented" aria-label="Paused filter">
          {(["all", "active", "paused"] as const).map((p) => (
            <button key={p} type="button" aria-pressed={paused === p} onClick={() => setPaused(p)}>
              {p === "all" ? "All" : p === "active" ? "Active" : "Paused"}
            </button>
          ))}
        </fieldset>
        <select
          aria-label="Filter by tag"
          value=""
          onChange={(e) => {
            const v = e.currentTarget.value;
            if (v && !tags.includes(v)) setTags([...tags, v]);
          }}
        >
          <option value="">Filter by tag…</option>
          {(allTags.data?.tags ?? []).map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        {tags.map((t) => (
          <button
            key={t}
            type="button"
            class="chip on"
            aria-label={`Remove tag filter ${t}`}
            onClick={() => setTags(tags.filter((x) => x !== t))}
          >
            {t} ×
          </button>
        ))}
      </div>
      <ErrorBox error={dags.error} title="Could not list the DAGs" />
      <VirtualRows
        class="dag-rows"
        label="DAGs"
        count={list.length}
        rowHeight={ROW_HEIGHT}
        onRange={(start, end) => recent.want(list.slice(start, end).map((d) => d.dag_id))}
        header={
          <div class="row head">
            <span>Active</span>
            <span>DAG</span>
            <span>Schedule</span>
            <span>Next run</span>
            <span>Latest runs</span>
            <span>
              <span class="sr-only">Actions</span>
            </span>
          </div>
        }
        row={(i) => {
          const dag = list[i] as Dag;
          const isPaused = pausedNow[dag.dag_id] ?? dag.is_paused;
          return (
            <div class="row" key={dag.dag_id} data-dag={dag.dag_id}>
              <span>
                <button
                  type="button"
                  class="switch"
                  aria-pressed={!isPaused}
                  aria-label={`${isPaused ? "Unpause" : "Pause"} ${dag.dag_id}`}
                  disabled={!can.editDags}
                  onClick={() => togglePause(dag)}
                />
              </span>
              <span class="dag-id">
                <Link href={dagHref(dag.dag_id)}>{dag.dag_id}</Link>
                {dag.tags.slice(0, 4).map((t) => (
                  <button
                    key={t.name}
                    type="button"
                    class="chip"
                    tabIndex={-1}
                    onClick={() => !tags.includes(t.name) && setTags([...tags, t.name])}
                  >
                    {t.name}
                  </button>
                ))}
              </span>
              <span class="mono" title={dag.timetable_description ?? undefined}>
                {dag.timetable_summary ?? "None"}
              </span>
              <span>{formatTime(dag.next_dagrun_run_after)}</span>
              <span>
                <RunSquares dagId={dag.dag_id} runs={recent.runs.get(dag.dag_id)} />
              </span>
              <span>
                {can.editRuns ? (
                  <button
                    type="button"
                    class="icon"
                    aria-label={`Trigger ${dag.dag_id}`}
                    title="Trigger"
                    onClick={() => setTrigger(dag.dag_id)}
                  >
                    ▶
                  </button>
                ) : null}
              </span>
            </div>
          );
        }}
      />
      {trigger ? (
        <TriggerDialog
          dagId={trigger}
          onClose={() => setTrigger(null)}
          onTriggered={(run) => {
            setTrigger(null);
            navigate(dagHref(run.dag_id, { runId: run.dag_run_id }));
          }}
        />
      ) : null}
    </section>
  );
}

/** Ten fixed squares, oldest left; empty slots keep their place so rows never shift. */
function RunSquares({ dagId, runs }: { dagId: string; runs: DagRun[] | undefined }) {
  const shown = (runs ?? []).slice(0, RECENT_RUNS).reverse();
  const slots = Array.from({ length: RECENT_RUNS }, (_, i) => shown[i - (RECENT_RUNS - shown.length)]);
  return (
    <span class="squares">
      {slots.map((r, i) =>
        r ? (
          <Link
            key={r.dag_run_id}
            href={dagHref(dagId, { runId: r.dag_run_id })}
            class="sq"
            data-state={r.state}
            style={{ background: stateColor(r.state) ?? undefined }}
            title={`${r.dag_run_id}: ${stateLabel(r.state)}`}
            aria-label={`run ${r.dag_run_id} ${stateLabel(r.state)}`}
          />
        ) : (
          <span key={`empty-${String(i)}`} class="sq empty" />
        ),
      )}
    </span>
  );
}

/** Latest runs per DAG, fetched for the DAGs in view and again when an event says one of their runs changed. */
function useRecentRuns() {
  const [runs, setRuns] = useState(() => new Map<string, DagRun[]>());
  const requested = useRef(new Set<string>());
  const visible = useRef<string[]>([]);
  const queue = useRef(new Set<string>());
  const flushing = useRef(false);
  const flush = async () => {
    if (flushing.current) return;
    flushing.current = true;
    while (queue.current.size) {
      const batch = [...queue.current];
      queue.current.clear();
      const got = new Map<string, DagRun[]>();
      await eachLimited(batch, 6, async (id) => {
        try {
          const r = await api<{ dag_runs: DagRun[] }>("GET", `/dags/${seg(id)}/dagRuns?limit=${RECENT_RUNS}&order_by=-id`);
          got.set(id, r.dag_runs);
        } catch {
          requested.current.delete(id);
        }
      });
      setRuns((m) => {
        const next = new Map(m);
        for (const [k, v] of got) next.set(k, v);
        return next;
      });
    }
    flushing.current = false;
  };
  const want = (ids: string[]) => {
    visible.current = ids;
    for (const id of ids)
      if (!requested.current.has(id)) {
        requested.current.add(id);
        queue.current.add(id);
      }
    void flush();
  };
  useEvents(
    (e) => e.type.startsWith("dag_run."),
    (e) => {
      if (!visible.current.includes(e.dag_id)) {
        requested.current.delete(e.dag_id);
        return;
      }
      // A run's own event carries its new state: show it at once, then read the list for order and new runs.
      setRuns((m) => {
        const list = m.get(e.dag_id);
        if (!list?.some((r) => r.dag_run_id === e.run_id)) return m;
        const next = new Map(m);
        next.set(
          e.dag_id,
          list.map((r) => (r.dag_run_id === e.run_id && e.state ? { ...r, state: e.state } : r)),
        );
        return next;
      });
      queue.current.add(e.dag_id);
      setTimeout(() => void flush(), 250);
    },
    [],
  );
  return { runs, want };
}

function ImportErrors({ data }: { data: any }) {
  const [open, setOpen] = useState(false);
  if (!data?.total_entries) return null;
  return (
    <div class="banner warn" role="status">
      <button type="button" class="link" aria-expanded={open} onClick={() => setOpen(!open)}>
        {data.total_entries} DAG import error{data.total_entries === 1 ? "" : "s"}
      </button>{" "}
      — files in the DAGs folder that did not parse; their DAGs are not shown.
      {open ? (
        <ul class="import-errors">
          {data.import_errors.map((e: any) => (
            <li key={e.import_error_id}>
              <strong class="mono">{e.filename}</strong>
              <pre>{e.stack_trace}</pre>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
