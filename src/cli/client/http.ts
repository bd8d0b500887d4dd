/**
 * The CLI client's one door to a server: fetch with the bearer token, JSON in and out, and a refusal (any
 * status ≥ 400) turned into a `ServerRefusal` that carries the API's `detail` as a readable line.
 */

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

/** The server answered with an error status: exit 1, print `message`. */
export class ServerRefusal extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** The server could not be reached at all (refused, DNS, TLS): exit 1 with a hint about --server. */
export class Unreachable extends Error {}

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** The body as the server sent it (what `--output json` prints). */
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | readonly string[] | undefined>;
  body?: unknown;
  accept?: string;
}

/** The header naming the team a request acts in (the server's src/api/request-team.ts). */
export const TEAM_HEADER = "Leoflow-Team";

export class ApiClient {
  /** `team`: sent as the Leoflow-Team header on every call; null lets the server choose the caller's own team. */
  constructor(
    readonly server: string,
    private readonly token: string | null,
    private readonly fetchFn: FetchFn = fetch,
    readonly team: string | null = null,
  ) {}

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    const url = this.server + path + queryString(opts.query);
    const headers: Record<string, string> = { accept: opts.accept ?? "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (this.team) headers[TEAM_HEADER] = this.team;
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await this.fetchFn(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    } catch (e) {
      throw new Unreachable(
        `could not reach ${this.server} (${e instanceof Error ? e.message : String(e)}); is the server running, and is --server (or LEOFLOW_SERVER) right?`,
      );
    }
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {}
    if (res.status >= 400) throw new ServerRefusal(res.status, describeDetail(res.status, json, text));
    return { status: res.status, headers: res.headers, text, json };
  }
}

/** `a/b` → `a%2Fb`: every id the user types goes into one path segment. */
export const seg = (s: string) => encodeURIComponent(s);

function queryString(query: RequestOptions["query"]): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) params.append(k, item);
    else params.append(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

/**
 * The API's `detail` as one readable text: a string as is, FastAPI's validation list as `loc: msg` lines,
 * anything else as JSON; a body without `detail` (a proxy's error page) as its first 200 characters.
 */
export function describeDetail(status: number, json: any, text: string): string {
  const detail = json && typeof json === "object" && "detail" in json ? json.detail : undefined;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail) && detail.every((d) => d && typeof d === "object" && "msg" in d))
    return detail.map((d) => (Array.isArray(d.loc) ? `${d.loc.join(".")}: ${d.msg}` : String(d.msg))).join("\n");
  if (detail !== undefined) return JSON.stringify(detail);
  const body = text.trim().slice(0, 200);
  return body ? `HTTP ${status}: ${body}` : `HTTP ${status} with an empty body`;
}
