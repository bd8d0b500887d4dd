/**
 * Filters live in the URL's query, as in Airflow 3's UI: a reload keeps them, back and forward step through
 * them, and a link shares them. `useQuery` re-reads the query whenever the app navigates; `setQuery` writes
 * some keys (a list repeats its key, as the API takes `tags`; empty removes it) and navigates.
 */
import { useEffect, useState } from "preact/hooks";
import { navigate, onNavigate } from "./router";

export type QueryValue = string | readonly string[] | null | undefined;

/** The query of the page's URL, re-read on every navigation (links, back and forward). */
export function useQuery(): URLSearchParams {
  const [search, setSearch] = useState(() => location.search);
  useEffect(() => onNavigate(() => setSearch(location.search)), []);
  return new URLSearchParams(search);
}

/** `search` with `changes` applied: a list repeats its key, "" or null removes it; other keys stay in place. Pure. */
export function withQuery(search: string, changes: Record<string, QueryValue>): string {
  const q = new URLSearchParams(search);
  for (const [key, value] of Object.entries(changes)) {
    q.delete(key);
    if (typeof value === "string") {
      if (value) q.set(key, value);
    } else if (value) for (const v of value) q.append(key, v);
  }
  const qs = q.toString();
  return qs ? `?${qs}` : "";
}

/**
 * Writes `changes` into the URL. `replace`: for typing (one history entry per search, not per key stroke); a
 * choice (a tag, a state) is a new entry, so back undoes it.
 */
export function setQuery(changes: Record<string, QueryValue>, replace = false): void {
  const next = location.pathname + withQuery(location.search, changes);
  if (next !== location.pathname + location.search) navigate(next, replace, true);
}
