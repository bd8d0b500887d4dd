/**
 * The app's URLs, like Airflow 3's: /dags, /dags/:dag_id (grid; ?tab=graph), /dags/:dag_id/runs/:run_id,
 * /dags/:dag_id/runs/:run_id/tasks/:task_id (?try=N; a mapped task: its instances), …/tasks/:task_id/mapped/:map_index
 * (one instance of a mapped task, ?try=N), /variables, /connections, /pools, /users, /audit, /login.
 * `parseRoute` is pure; `navigate` pushes history and tells the app.
 */

export type DagTab = "grid" | "graph";

export type Route =
  | { page: "dags" }
  | { page: "dag"; dagId: string; tab: DagTab; runId?: string; taskId?: string; mapIndex?: number; tryNumber?: number }
  | { page: "variables" }
  | { page: "connections" }
  | { page: "pools" }
  | { page: "users" }
  | { page: "audit" }
  | { page: "login" }
  | { page: "not_found"; path: string };

export function parseRoute(pathname: string, search: string): Route {
  const q = new URLSearchParams(search);
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const [first, dagId, runs, runId, tasks, taskId, mapped, index] = parts;
  if (!first || (first === "dags" && !dagId)) return { page: "dags" };
  if (first === "dags" && dagId) {
    const tab: DagTab = q.get("tab") === "graph" ? "graph" : "grid";
    if (parts.length === 2) return { page: "dag", dagId, tab };
    if (runs === "runs" && runId && parts.length === 4) return { page: "dag", dagId, tab, runId };
    if (runs === "runs" && runId && tasks === "tasks" && taskId && (parts.length === 6 || (parts.length === 8 && mapped === "mapped"))) {
      const t = Number(q.get("try"));
      const tryNumber = Number.isInteger(t) && t > 0 ? t : undefined;
      if (parts.length === 6) return { page: "dag", dagId, tab, runId, taskId, tryNumber };
      if (/^\d+$/.test(index!)) return { page: "dag", dagId, tab, runId, taskId, mapIndex: Number(index), tryNumber };
    }
  }
  if (parts.length === 1 && ["variables", "connections", "pools", "users", "audit", "login"].includes(first))
    return { page: first as "variables" };
  return { page: "not_found", path: pathname };
}

const e = encodeURIComponent;

/** The URL of a DAG page, a run or a task instance on it. Pure. */
export function dagHref(
  dagId: string,
  opts: { runId?: string; taskId?: string; mapIndex?: number; tab?: DagTab; tryNumber?: number } = {},
): string {
  let path = `/dags/${e(dagId)}`;
  if (opts.runId) path += `/runs/${e(opts.runId)}`;
  if (opts.runId && opts.taskId) path += `/tasks/${e(opts.taskId)}`;
  if (opts.runId && opts.taskId && opts.mapIndex !== undefined) path += `/mapped/${opts.mapIndex}`;
  if (opts.tab !== "graph" && !opts.tryNumber) return path; // the grid draws thousands of these
  const q = new URLSearchParams();
  if (opts.tab === "graph") q.set("tab", "graph");
  if (opts.tryNumber) q.set("try", String(opts.tryNumber));
  const qs = q.toString();
  return qs ? `${path}?${qs}` : path;
}

const listeners = new Set<() => void>();

export function onNavigate(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The DAG page's grid filters (the number of runs, their state and type): kept in its URL as the user moves on it. */
export const DAG_VIEW_KEYS = ["runs", "run_state", "run_type"] as const;

/**
 * `href` with the grid filters of `from` (the current URL) when both are pages of the same DAG and `href` names none
 * of its own: links on the DAG page (thousands, by dagHref) stay plain, and clicking one keeps the filters. Pure.
 */
export function keepDagView(from: { pathname: string; search: string }, href: string): string {
  const dagOf = (path: string) => /^\/dags\/([^/?#]+)/.exec(path)?.[1];
  const [path = "", query = ""] = href.split("?", 2);
  const dag = dagOf(path);
  if (!dag || dag !== dagOf(from.pathname)) return href;
  const target = new URLSearchParams(query);
  if (DAG_VIEW_KEYS.some((k) => target.has(k))) return href;
  const current = new URLSearchParams(from.search);
  for (const k of DAG_VIEW_KEYS) for (const v of current.getAll(k)) target.append(k, v);
  const qs = target.toString();
  return qs ? `${path}?${qs}` : path;
}

/** `exact`: go to `href` as it is (a filter the user cleared stays cleared), not keeping the DAG page's filters. */
export function navigate(href: string, replace = false, exact = false): void {
  if (!exact) href = keepDagView(location, href);
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  for (const l of listeners) l();
}

if (typeof window !== "undefined")
  window.addEventListener("popstate", () => {
    for (const l of listeners) l();
  });
