/**
 * Builds the HttpCall of an inline http task (pure): templates rendered, the connection's base URL and
 * credentials applied, and the log-safe URL plus the list of secret strings to mask in anything shown.
 *
 * Connection rules (Airflow's HttpHook, plus a path prefix): the scheme comes from the host when it has
 * one, else from `schema` when that is http/https (Airflow's habit), else from conn_type https, else http;
 * any other `schema` is a path prefix; `port` is added when the host has none. Auth: conn_type "bearer"
 * (token = extra.token or password) or `extra.token` → Bearer; else login (+password) → Basic. The task's
 * own headers win over the connection's (`extra.headers` included).
 */
import {
  MASK,
  TemplateError,
  isSensitiveName,
  renderJson,
  renderString,
  type ConnectionRecord,
  type HttpRequestSpec,
  type TemplateContext,
} from "../domain";
import { DEFAULT_HTTP_RETRIES, DEFAULT_REQUEST_TIMEOUT_SECONDS, type HttpCall } from "./inline-http";

export interface BuiltCall {
  call: HttpCall;
  /** Values to mask in logs and notes (passwords, tokens, values of sensitive variables). */
  secrets: string[];
}

/**
 * The built call of a request with no template and no connection, made once per request spec: whatever the try,
 * its context changes nothing (renderString keeps a string without "{{" as it is, and no variable is read, so no
 * secret comes from one). An inline fan-out's tasks share one spec; building and loading a context for each try
 * was ~4% of a busy server's main thread (a 10,000-task fan-out's profile). null: the request needs a context.
 * A request that does not build (no absolute URL, json and body both) is not kept: it throws each time, as before.
 */
const plainCalls = new WeakMap<HttpRequestSpec, BuiltCall | null>();
/** What a request with no template is built in: nothing of it is read but `var` (none, so no secret). */
const EMPTY_CONTEXT: TemplateContext = {
  dag_id: "",
  run_id: "",
  task_id: "",
  try_number: 0,
  logical_date: null,
  params: {},
  conf: {},
  xcom: {},
  var: {},
};
export function plainHttpCall(http: HttpRequestSpec, texts: () => string[]): BuiltCall | null {
  const known = plainCalls.get(http);
  if (known !== undefined) return known;
  if (http.connection_id || texts().some((t) => t.includes("{{"))) {
    plainCalls.set(http, null);
    return null;
  }
  const built = buildHttpCall(http, EMPTY_CONTEXT, null);
  plainCalls.set(http, built);
  return built;
}

export function buildHttpCall(http: HttpRequestSpec, ctx: TemplateContext, connection: ConnectionRecord | null): BuiltCall {
  const secrets = new Set<string>();
  for (const [k, v] of Object.entries(ctx.var)) if (isSensitiveName(k)) secrets.add(v);
  const headers: Record<string, string> = {};
  let urlText = renderString(http.url, ctx, "http.url");

  if (http.connection_id) {
    if (!connection) throw new TemplateError(`connection "${http.connection_id}" does not exist; create it with POST /api/v2/connections`);
    const extra = parseExtra(connection);
    if (connection.password) secrets.add(connection.password);
    if (typeof extra.token === "string") secrets.add(extra.token);
    if (extra.headers && typeof extra.headers === "object")
      for (const [k, v] of Object.entries(extra.headers as Record<string, unknown>)) headers[k.toLowerCase()] = String(v);
    Object.assign(headers, authHeader(connection, extra));
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(urlText)) urlText = joinUrl(baseUrl(connection), urlText);
  }

  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    throw new TemplateError(
      `http.url "${safeText(urlText, [...secrets])}" is not an absolute URL; write http(s)://host/path or set connection_id to supply the base`,
    );
  }
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    if (pass) secrets.add(pass);
    headers.authorization ??= `Basic ${btoa(`${user}:${pass}`)}`;
    url.username = url.password = "";
  }
  for (const [k, v] of Object.entries(http.query ?? {}))
    url.searchParams.append(k, typeof v === "string" ? renderString(v, ctx, `http.query.${k}`) : String(v));

  for (const [k, v] of Object.entries(http.headers ?? {})) headers[k.toLowerCase()] = renderString(v, ctx, `http.headers.${k}`);
  for (const [k, v] of Object.entries(headers)) if (isSensitiveName(k) && k !== "authorization") secrets.add(v);
  if (headers.authorization) secrets.add(headers.authorization.replace(/^\w+\s+/, ""));

  let body: string | undefined;
  if (http.json !== undefined && http.body !== undefined) throw new TemplateError("http sets both json and body; keep one");
  if (http.json !== undefined) {
    body = JSON.stringify(renderJson(http.json, ctx, "http.json"));
    headers["content-type"] ??= "application/json";
  } else if (http.body !== undefined) {
    body = renderString(http.body, ctx, "http.body");
    headers["content-type"] ??= "text/plain; charset=utf-8";
  }

  const list = [...secrets].filter((s) => s.length >= 3);
  return {
    call: {
      method: http.method,
      url: url.toString(),
      safeUrl: safeUrl(url, list),
      headers,
      body,
      expectedStatus: http.expected_status,
      timeoutSeconds: http.timeout ?? DEFAULT_REQUEST_TIMEOUT_SECONDS,
      retries: http.retries ?? DEFAULT_HTTP_RETRIES,
    },
    secrets: list,
  };
}

function parseExtra(c: ConnectionRecord): Record<string, unknown> {
  if (!c.extra) return {};
  try {
    const v = JSON.parse(c.extra);
    return v && typeof v === "object" && !Array.isArray(v) ? v : {};
  } catch {
    throw new TemplateError(
      `connection "${c.connection_id}" has an extra that is not a JSON object; fix it with PATCH /api/v2/connections/${c.connection_id}`,
    );
  }
}

export function baseUrl(c: ConnectionRecord): string {
  const host = (c.host ?? "").trim();
  if (!host)
    throw new TemplateError(`connection "${c.connection_id}" has no host; set host (e.g. api.example.com or https://api.example.com)`);
  const schemaIsScheme = c.schema === "http" || c.schema === "https";
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(host);
  const scheme = schemaIsScheme ? c.schema : c.conn_type.toLowerCase() === "https" ? "https" : "http";
  const url = new URL(hasScheme ? host : `${scheme}://${host}`);
  if (c.port && !url.port) url.port = String(c.port);
  let base = url.toString().replace(/\/+$/, "");
  if (c.schema && !schemaIsScheme) base = joinUrl(base, c.schema);
  return base;
}

function joinUrl(base: string, path: string): string {
  if (!path) return base;
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

function authHeader(c: ConnectionRecord, extra: Record<string, unknown>): Record<string, string> {
  const token = typeof extra.token === "string" ? extra.token : c.conn_type.toLowerCase() === "bearer" ? c.password : null;
  if (token) return { authorization: `Bearer ${token}` };
  if (c.login) return { authorization: `Basic ${btoa(`${c.login}:${c.password ?? ""}`)}` };
  return {};
}

/** The URL without userinfo, with values of sensitive query names and any known secret masked. */
export function safeUrl(url: URL, secrets: string[]): string {
  const query = [...url.searchParams].map(([k, v]) => `${encodeURIComponent(k)}=${isSensitiveName(k) ? MASK : encodeURIComponent(v)}`);
  const text = `${url.protocol}//${url.host}${url.pathname}${query.length ? `?${query.join("&")}` : ""}`;
  return safeText(text, secrets);
}

/** `text` with every known secret (and its URL-encoded form) replaced by ***. */
export function safeText(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 3) continue;
    out = out.split(s).join(MASK);
    const enc = encodeURIComponent(s);
    if (enc !== s) out = out.split(enc).join(MASK);
  }
  return out;
}
