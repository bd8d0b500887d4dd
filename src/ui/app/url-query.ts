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

/**
 * A search box kept in the URL under `key`: `[text, setText]` follow the keys; the URL (what the page filters by,
 * `committed`) follows `ms` after the last key, replacing the history entry (one per search, not per key). Back,
 * forward or a link that change the URL's value change the box.
 */
export function useQueryText(q: URLSearchParams, key: string, ms = 200): [string, (text: string) => void, string] {
  const committed = (q.get(key) ?? "").trim();
  const [text, setText] = useState(committed);
  useEffect(() => {
    const t = setTimeout(() => text.trim() !== committed && setQuery({ [key]: text.trim() }, true), ms);
    return () => clearTimeout(t);
  }, [text]);
  useEffect(() => {
    if (committed !== text.trim()) setText(committed);
  }, [committed]);
  return [text, setText, committed];
}
