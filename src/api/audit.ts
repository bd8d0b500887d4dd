/**
 * The audit middleware: after every successful mutating call (POST, PUT, PATCH, DELETE answered below 400)
 * it appends one audit log entry — who (the token's user), when, what (Airflow's event name, e.g.
 * `trigger_dag_run`, `patch_dag`, `bulk_variables`), the DAG / run / task it touched, and the request's
 * non-secret fields (query, the other path parameters, body) as JSON in `extra`. Read-only POSTs (list batches, dry runs) are not audited. The entry
 * is written after the change commits: a failure to write it is logged, never turned into a failed call.
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { DEFAULT_TEAM, MASK, isSensitiveName, redactJson, type AuditLogEntry } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { permissionFor, routeKey } from "./route-permissions";
import { teamOf } from "./team";

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
/** `extra` larger than this keeps only the names of the body's fields. */
const MAX_EXTRA_CHARS = 8192;

/** Airflow's operation ids of the mutating routes (their event names); routes not listed get `<method>_<path>`. */
const EVENTS: Record<string, string | null> = {
  "PATCH /dags": "patch_dags",
  "PATCH /dags/:dag_id": "patch_dag",
  "DELETE /dags/:dag_id": "delete_dag",
  "PUT /parseDagFile/:file_token": "reparse_dag_file",
  "POST /dags/:dag_id/dagRuns": "trigger_dag_run",
  "POST /dags/:dag_id/dagRuns/list": null,
  "PATCH /dags/:dag_id/dagRuns/:dag_run_id": "patch_dag_run",
  "DELETE /dags/:dag_id/dagRuns/:dag_run_id": "delete_dag_run",
  "POST /dags/:dag_id/dagRuns/:dag_run_id/clear": "clear_dag_run",
  "POST /dags/:dag_id/clearTaskInstances": "post_clear_task_instances",
  "PATCH /dags/:dag_id/dagRuns/:dag_run_id/taskInstances": "bulk_task_instances",
  "POST /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/list": null,
  "PATCH /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id": "patch_task_instance",
  "PATCH /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/dry_run": null,
  "PATCH /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/:map_index": "patch_task_instance",
  "PATCH /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/:map_index/dry_run": null,
  "POST /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/xcomEntries": "create_xcom_entry",
  "PATCH /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/xcomEntries/:xcom_key": "update_xcom_entry",
  "POST /backfills": "create_backfill",
  "POST /backfills/dry_run": null,
  "PUT /backfills/:backfill_id/pause": "pause_backfill",
  "PUT /backfills/:backfill_id/unpause": "unpause_backfill",
  "PUT /backfills/:backfill_id/cancel": "cancel_backfill",
  "POST /pools": "post_pool",
  "PATCH /pools": "bulk_pools",
  "PATCH /pools/:pool_name": "patch_pool",
  "DELETE /pools/:pool_name": "delete_pool",
  "POST /variables": "post_variable",
  "PATCH /variables": "bulk_variables",
  "PATCH /variables/:variable_key": "patch_variable",
  "DELETE /variables/:variable_key": "delete_variable",
  "POST /connections": "post_connection",
  "PATCH /connections": "bulk_connections",
  "POST /connections/test": "test_connection",
  "PATCH /connections/:connection_id": "patch_connection",
  "DELETE /connections/:connection_id": "delete_connection",
};
const EVENT_BY_KEY = new Map(Object.entries(EVENTS).map(([k, e]) => [routeKey(k.split(" ")[0]!, k.split(" ")[1]!), e]));

/**
 * The event name of a route (pattern relative to the API prefix), or null when the route changes nothing.
 *
 * @example auditEventName("POST", "/dags/:dag_id/dagRuns") // "trigger_dag_run"
 * @example auditEventName("POST", "/leoflow/users") // "post_leoflow_users"
 */
export function auditEventName(method: string, route: string): string | null {
  const known = EVENT_BY_KEY.get(routeKey(method, route));
  if (known !== undefined) return known;
  const words = route.split("/").filter((s) => s && !s.startsWith(":"));
  return [method.toLowerCase(), ...words].join("_").replace(/[^A-Za-z0-9_]/g, "_");
}

/** Path parameters by name, read off the request path against the route pattern. */
export function pathParams(pattern: string, path: string): Record<string, string> {
  const ps = pattern.split("/");
  const xs = path.split("/");
  const out: Record<string, string> = {};
  ps.forEach((p, i) => {
    if (p.startsWith(":") && xs[i] !== undefined) out[p.slice(1).replace(/\{.*$/, "").replace(/\?$/, "")] = decodeURIComponent(xs[i]!);
  });
  return out;
}

/**
 * The request's fields with every secret masked: sensitive names anywhere (password, token, …); on
 * connection routes, `extra` whole; on variable routes, the `value` of a variable whose key names a secret or
 * that is flagged `is_encrypted`.
 *
 * @example auditExtra("/variables", { key: "api_token", value: "s3cr3t" }) // { key: "api_token", value: "***" }
 */
export function auditExtra(route: string, body: unknown): unknown {
  const connections = route.startsWith("/connections");
  const variables = route.startsWith("/variables");
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!v || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    const secretVariable = variables && "value" in o && ((typeof o.key === "string" && isSensitiveName(o.key)) || o.is_encrypted === true);
    return Object.fromEntries(
      Object.entries(o).map(([k, x]) => {
        if (isSensitiveName(k) || (connections && k === "extra" && x != null) || (secretVariable && k === "value")) return [k, MASK];
        return [k, walk(x)];
      }),
    );
  };
  return walk(redactJson(body));
}

export function auditLog(deps: ResolvedDeps, prefix: string): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    await next();
    if (!MUTATING.has(c.req.method) || c.res.status >= 400 || c.error) return;
    const route = matchedRoutes(c).find((r) => r.method !== "ALL");
    if (!route) return;
    const rel = route.path.startsWith(prefix) ? route.path.slice(prefix.length) : route.path;
    const event = auditEventName(c.req.method, rel);
    if (!event) return;
    // Users and teams are install-wide: their changes go to the install admins' log (team default), never to
    // the log of the team the request happened to name, whose Admins must not learn other teams or their people.
    const team = permissionFor(c.req.method, route.path, prefix) === "users:manage" ? DEFAULT_TEAM : teamOf(c);
    try {
      await deps.store.appendAuditLog(await entryOf(c, team, event, rel, route.path, deps.now()));
    } catch (e) {
      deps.logger.error("could not write the audit log entry", { event, path: c.req.path, error: e });
    }
  };
}

/** Path parameters an entry has a column for (Airflow's action_logging leaves the ids out of extra alike). */
const OWN_COLUMNS = new Set(["dag_id", "dag_run_id", "task_id"]);

async function entryOf(c: Context<ApiEnv>, team: string, event: string, rel: string, pattern: string, now: Date): Promise<AuditLogEntry> {
  const params = pathParams(pattern, c.req.path);
  const body = await jsonOf(() => c.req.text());
  const fields = body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const answer = await jsonOf(() => c.res.clone().text());
  const answered = answer && typeof answer === "object" ? (answer as Record<string, unknown>) : {};
  // A variable PATCH names its key in the path: a secret key masks the value even if the body forgets the key.
  const pathKey = params.variable_key;
  const masked = auditExtra(rel, pathKey && isSensitiveName(pathKey) ? { ...fields, value: MASK } : fields) as Record<string, unknown>;
  const query = Object.fromEntries(Object.entries(c.req.queries()).map(([k, v]) => [k, v.length === 1 ? v[0] : v]));
  // As Airflow's action_logging: the path's parameters go into extra too (which variable, pool, connection, user or
  // backfill a DELETE or PUT changed is named nowhere else), but for the ids that have their own columns.
  const named = Object.fromEntries(Object.entries(params).filter(([k]) => !OWN_COLUMNS.has(k)));
  let extra = JSON.stringify({ ...(redactJson(query) as object), ...(redactJson(named) as object), ...masked });
  if (extra.length > MAX_EXTRA_CHARS) extra = JSON.stringify({ truncated: true, fields: Object.keys(masked) });
  const str = (...vs: unknown[]) => (vs.find((v) => typeof v === "string" && v !== "") as string | undefined) ?? null;
  const num = (v: unknown) => (v === undefined || v === "" || Number.isNaN(Number(v)) ? null : Number(v));
  const logical = str(answered.logical_date, fields.logical_date);
  return {
    team,
    when: now,
    event,
    owner: c.get("user")?.username ?? null,
    dag_id: str(params.dag_id === "~" ? undefined : params.dag_id, fields.dag_id, answered.dag_id),
    run_id: str(params.dag_run_id === "~" ? undefined : params.dag_run_id, fields.dag_run_id, answered.dag_run_id),
    task_id: str(params.task_id, fields.task_id),
    map_index: num(params.map_index),
    try_number: num(params.try_number ?? params.task_try_number),
    logical_date: logical && !Number.isNaN(Date.parse(logical)) ? new Date(logical) : null,
    extra,
  };
}

async function jsonOf(read: () => Promise<string>): Promise<unknown> {
  try {
    const text = await read();
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}
