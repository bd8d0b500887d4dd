/**
 * The one door to the server: every request of the app goes through `api()` (and the event stream through
 * `authHeaders()`), so adding a header for all of them, such as the team (`Leoflow-Team`), is one line here.
 * A 401 ends the session (the sign-in page says it expired and comes back here); no answer at all is a
 * NoAnswerError (reachability.ts); any other error is an ApiError with the API's `detail`.
 */
import { fetchNoting } from "./reachability";
import { expireSession, getSession } from "./session";

export const API = "/api/v2";

/** The team chosen in the UI, sent as `Leoflow-Team` on every call (null: the server's default). */
let team: string | null = null;
export function setTeam(name: string | null): void {
  team = name;
}

export function authHeaders(): Record<string, string> {
  const h: Record<string, string> = {};
  const s = getSession();
  if (s?.token) h.authorization = `Bearer ${s.token}`;
  if (team) h["leoflow-team"] = team;
  return h;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(detailText(detail, status));
  }
}

/** One readable line from Airflow's `detail` (a string, or FastAPI's list of {loc, msg}). Pure. */
export function detailText(detail: unknown, status: number): string {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail))
    return detail
      .map((d) =>
        d && typeof d === "object" && "msg" in d ? `${(d.loc as unknown[] | undefined)?.join(".") ?? ""}: ${d.msg}` : JSON.stringify(d),
      )
      .join("; ");
  return detail == null ? `HTTP ${status}` : JSON.stringify(detail);
}

export async function api<T = any>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json", ...authHeaders() };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetchNoting(`${API}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  if (res.status === 401) expireSession();
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { detail: text };
  }
  if (!res.ok) throw new ApiError(res.status, json?.detail ?? `${res.status} ${res.statusText}`);
  return json as T;
}

/** POST /auth/token; the token, or an ApiError (401 wrong password, 429 throttled). */
export async function login(username: string, password: string): Promise<string> {
  const res = await fetch("/auth/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  const json = await res.json().catch(() => null);
  if (!res.ok || typeof json?.access_token !== "string")
    throw new ApiError(res.status, json?.detail ?? `login failed (HTTP ${res.status})`);
  return json.access_token;
}

/** Encodes one path segment (run ids hold `:` and `+`). */
export const seg = encodeURIComponent;

/** Every page of a list endpoint (Airflow caps a page at 1000). */
export async function listAll<T>(path: string, key: string, pageSize = 1000, signal?: AbortSignal): Promise<T[]> {
  const out: T[] = [];
  const sep = path.includes("?") ? "&" : "?";
  for (let offset = 0; ; offset += pageSize) {
    const page = await api(`GET`, `${path}${sep}limit=${pageSize}&offset=${offset}`, undefined, signal);
    const items = (page[key] ?? []) as T[];
    out.push(...items);
    if (items.length < pageSize || out.length >= page.total_entries) return out;
  }
}

/** Runs `work` over items, at most `limit` at once (a browser opens ~6 connections per host anyway). */
export async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
