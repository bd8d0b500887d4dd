/** @jsxImportSource preact */
/**
 * The DAG list: search, paused, last-run state and tag filters (kept in the URL), import errors, and per DAG its pause switch, schedule, next
 * run and the state of its latest runs as squares (fetched only for the rows in view, refreshed by events).
 * Rows carry no handlers of their own: one click handler reads their data attributes.
 */
import { useState } from "preact/hooks";
import { api, seg } from "../api";
import { ErrorBox } from "../components/common";
import { DagRow, RECENT_RUNS } from "../components/dag-row";
import { TriggerDialog } from "../components/trigger";
import { VirtualRows } from "../components/virtual-list";
import { useDagList, useRecentRuns } from "../dag-list-data";
import { useAsync, useSession } from "../hooks";
import { dagHref, navigate } from "../router";
import { DAG_RUN_STATES, dagListFilters, type Paused } from "../filters";
import { setQuery, useQuery, useQueryText } from "../url-query";
import { capabilities } from "../session";

const ROW_HEIGHT = 44;
export function DagListPage() {
  const can = capabilities(useSession()?.role);
  const url = useQuery();
  const { paused, tags, tagsMatchAll, lastRunState } = dagListFilters(url);
  const [search, setSearch, query] = useQueryText(url, "search");
  const [trigger, setTrigger] = useState<string | null>(null);
  const setTags = (next: string[]) => setQuery({ tags: next, ...(next.length < 2 ? { tags_match_mode: null } : {}) });

  const q = new URLSearchParams({ order_by: "dag_id" });
  if (query) q.set("dag_id_pattern", query);
  if (paused !== "all") q.set("paused", String(paused === "paused"));
  for (const t of tags) q.append("tags", t);
  if (tagsMatchAll && tags.length > 1) q.set("tags_match_mode", "all");
  if (lastRunState) q.set("last_dag_run_state", lastRunState);
  const dags = useDagList(q.toString());
  const allTags = useAsync((signal) => api<{ tags: string[] }>("GET", "/dagTags?limit=1000", undefined, signal), []);
  const importErrors = useAsync((signal) => api("GET", "/importErrors?limit=100", undefined, signal), []);
  const [pausedNow, setPausedNow] = useState<Record<string, boolean>>({});
  const list = dags.dags;
  const recent = useRecentRuns(RECENT_RUNS);

  const togglePause = async (dagId: string) => {
    const dag = list.find((d) => d.dag_id === dagId);
    if (!dag) return;
    const next = !(pausedNow[dagId] ?? dag.is_paused);
    setPausedNow((p) => ({ ...p, [dagId]: next }));
    try {
      await api("PATCH", `/dags/${seg(dagId)}?update_mask=is_paused`, { is_paused: next });
    } catch (e) {
      setPausedNow((p) => ({ ...p, [dagId]: !next }));
      alert(`Could not ${next ? "pause" : "unpause"} ${dagId}: ${(e as Error).message}`);
    }
  };
  const onRowClick = (e: MouseEvent) => {
    const el = (e.target as Element).closest<HTMLElement>("a[data-nav], button[data-pause], button[data-tag], button[data-trigger]");
    if (!el) return;
    const d = el.dataset;
    if (d.pause) void togglePause(d.pause);
    else if (d.tag) !tags.includes(d.tag) && setTags([...tags, d.tag]);
    else if (d.trigger) setTrigger(d.trigger);
    else if (e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey) {
      e.preventDefault();
      navigate(el.getAttribute("href") ?? "/dags");
    }
  };
  const total = dags.total ?? list.length;

  return (
    <section class="page dag-list">
      <div class="page-head">
        <h1>DAGs</h1>
        <span class="muted" aria-live="polite">
          {dags.total === null ? (dags.error ? "" : "loading…") : `${total} DAG${total === 1 ? "" : "s"}`}
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
            <button
              key={p}
              type="button"
              aria-pressed={paused === p}
              onClick={() => setQuery({ paused: p === "all" ? null : String(p === "paused") })}
            >
              {p === "all" ? "All" : p === "active" ? "Active" : "Paused"}
            </button>
          ))}
        </fieldset>
        <select
          aria-label="Filter by last run state"
          value={lastRunState}
          onChange={(e) => setQuery({ last_dag_run_state: e.currentTarget.value })}
        >
          <option value="">Any last run</option>
          {DAG_RUN_STATES.map((st) => (
            <option key={st} value={st}>
              Last run {st}
            </option>
          ))}
        </select>
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
        {tags.length > 1 ? (
          <fieldset class="segmented" aria-label="Tags to match">
            {(["any", "all"] as const).map((m) => (
              <button
                key={m}
                type="button"
                aria-pressed={tagsMatchAll === (m === "all")}
                onClick={() => setQuery({ tags_match_mode: m === "all" ? "all" : null })}
              >
                {m === "any" ? "Any tag" : "All tags"}
              </button>
            ))}
          </fieldset>
        ) : null}
      </div>
      <ErrorBox error={dags.error} title="Could not list the DAGs" />
      {dags.total === 0 && !dags.loading ? (
        <NoDags
          query={query}
          paused={paused}
          tags={tags}
          lastRunState={lastRunState}
          clear={() => {
            setSearch("");
            setQuery({ search: null, paused: null, tags: null, tags_match_mode: null, last_dag_run_state: null });
          }}
        />
      ) : null}
      <VirtualRows
        class="dag-rows"
        label="DAGs"
        count={list.length}
        rowHeight={ROW_HEIGHT}
        overscan={4}
        onClick={onRowClick}
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
          const dag = list[i];
          if (!dag) return null;
          return (
            <DagRow
              key={dag.dag_id}
              dag={dag}
              paused={pausedNow[dag.dag_id] ?? dag.is_paused}
              runs={recent.runs.get(dag.dag_id)}
              canPause={can.editDags}
              canTrigger={can.editRuns}
            />
          );
        }}
      />
      {trigger ? (
        <TriggerDialog
          dagId={trigger}
          paused={pausedNow[trigger] ?? list.find((d) => d.dag_id === trigger)?.is_paused ?? false}
          onUnpaused={() => setPausedNow((p) => ({ ...p, [trigger]: false }))}
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

/** What an empty list means: nothing matches the filters (and a way to drop them), or no DAG at all. */
function NoDags(props: { query: string; paused: Paused; tags: string[]; lastRunState: string; clear: () => void }) {
  const { query, paused, tags, lastRunState, clear } = props;
  const also = [
    paused === "all" ? "" : `${paused} only`,
    tags.length ? `tagged ${tags.join(", ")}` : "",
    lastRunState ? `last run ${lastRunState}` : "",
  ].filter(Boolean);
  if (!query && !also.length)
    return <p class="notice">No DAGs yet: a DAG file in the DAGs folder shows here once it parses (or see its import error above).</p>;
  return (
    <p class="notice" role="status">
      {query ? `No DAGs match “${query}”` : "No DAGs match the filters"}
      {also.length ? ` (${also.join("; ")})` : ""}.{" "}
      <button type="button" class="link" onClick={clear}>
        Clear filters
      </button>
    </p>
  );
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
