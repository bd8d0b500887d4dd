/**
 * What the DAG list shows, loaded for a quick first paint: the first screenful of DAGs in one small request
 * (drawn at once), then the rest; and the latest runs of the DAGs in view, in one batch request per scroll
 * position, refreshed when an event says one of their runs changed.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api, eachLimited, seg } from "./api";
import { useEvents, useRetryOnAnswer } from "./hooks";
import { splitRecentRuns } from "./recent-runs";
import type { Dag, DagRun } from "./types";

/** Enough DAGs for a tall screen: the first request stays small, so the first rows come quickly. */
const FIRST_PAGE = 40;
const PAGE = 1000;

export interface DagList {
  dags: Dag[];
  /** What the server counts for the filter (known after the first page). */
  total: number | null;
  error: Error | null;
  loading: boolean;
}

/** The DAGs for a query string (search, paused, tags), in pages; a new query aborts the old one. */
export function useDagList(query: string): DagList {
  const [list, setList] = useState<DagList>({ dags: [], total: null, error: null, loading: true });
  const [attempt, setAttempt] = useState(0);
  useRetryOnAnswer(list.error, () => setAttempt((a) => a + 1));
  useEffect(() => {
    const ctl = new AbortController();
    setList((l) => ({ ...l, error: null, loading: true }));
    void (async () => {
      try {
        const page = (offset: number, limit: number) =>
          api<{ dags: Dag[]; total_entries: number }>("GET", `/dags?${query}&limit=${limit}&offset=${offset}`, undefined, ctl.signal);
        const first = await page(0, FIRST_PAGE);
        const dags = first.dags.slice();
        const more = dags.length < first.total_entries && dags.length === FIRST_PAGE;
        setList({ dags: first.dags, total: first.total_entries, error: null, loading: more });
        if (!more) return;
        for (let offset = dags.length; ; offset += PAGE) {
          const next = await page(offset, PAGE);
          dags.push(...next.dags);
          if (next.dags.length < PAGE || dags.length >= next.total_entries) break;
        }
        setList({ dags: dags.slice(), total: dags.length, error: null, loading: false });
      } catch (e) {
        if (!ctl.signal.aborted) setList((l) => ({ ...l, error: e as Error, loading: false }));
      }
    })();
    return () => ctl.abort();
  }, [query, attempt]);
  return list;
}

/** The latest `per` runs of each DAG in view: `want(ids)` on every scroll position, `runs` by DAG id. */
export function useRecentRuns(per: number) {
  const [runs, setRuns] = useState(() => new Map<string, DagRun[]>());
  const requested = useRef(new Set<string>());
  const visible = useRef<string[]>([]);
  const queue = useRef(new Set<string>());
  const flushing = useRef(false);
  const apply = (got: Map<string, DagRun[]>) =>
    got.size &&
    setRuns((m) => {
      const next = new Map(m);
      for (const [k, v] of got) next.set(k, v);
      return next;
    });
  const flush = async () => {
    if (flushing.current) return;
    flushing.current = true;
    while (queue.current.size) {
      const batch = [...queue.current];
      queue.current.clear();
      try {
        const page_limit = per * batch.length;
        const r = await api<{ dag_runs: DagRun[] }>("POST", "/dags/~/dagRuns/list", { dag_ids: batch, order_by: "-id", page_limit });
        const { byDag, incomplete } = splitRecentRuns(r.dag_runs, batch, per, r.dag_runs.length >= page_limit);
        apply(byDag);
        await eachLimited(incomplete, 4, async (id) => {
          const one = await api<{ dag_runs: DagRun[] }>("GET", `/dags/${seg(id)}/dagRuns?limit=${per}&order_by=-id`);
          apply(new Map([[id, one.dag_runs]]));
        });
      } catch {
        // Asked again when they come back into view.
        for (const id of batch) requested.current.delete(id);
      }
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
      if (!e) {
        // The stream (re)connected: runs may have changed with no event. Read the visible DAGs' again, and the
        // others when they come back into view.
        for (const id of requested.current) if (!visible.current.includes(id)) requested.current.delete(id);
        for (const id of visible.current) queue.current.add(id);
        setTimeout(() => void flush(), 250);
        return;
      }
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
