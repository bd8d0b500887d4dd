/**
 * The one table of who may call what: every guarded route (method and path under /api/v2, as registered)
 * and the permission it needs; src/auth/roles.ts says which roles hold it. A guarded route missing here is
 * refused to every role but Admin (fail closed), and test/integration/api/role-matrix.test.ts fails until it is
 * added. Parameter names do not matter: `/dags/:dag_id` and `/dags/:id` are the same entry.
 */
import type { Permission } from "../auth";

const TABLE: Record<string, Permission> = {
  // DAGs
  "GET /dags": "dags:read",
  "PATCH /dags": "dags:edit",
  "GET /dags/:dag_id": "dags:read",
  "PATCH /dags/:dag_id": "dags:edit",
  "DELETE /dags/:dag_id": "dags:edit",
  "GET /dags/:dag_id/details": "dags:read",
  "GET /dags/:dag_id/tasks": "dags:read",
  "GET /dags/:dag_id/tasks/:task_id": "dags:read",
  "GET /dagStats": "dags:read",
  "GET /dagTags": "dags:read",
  "GET /dagSources/:dag_id": "dags:read",
  "GET /dags/:dag_id/dagVersions": "dags:read",
  "GET /dags/:dag_id/dagVersions/:version_number": "dags:read",
  "GET /dagWarnings": "dags:read",
  "PUT /parseDagFile/:file_token": "dags:edit",
  "GET /importErrors": "dags:read",
  "GET /importErrors/:import_error_id": "dags:read",
  // Runs
  "GET /dags/:dag_id/dagRuns": "dags:read",
  "POST /dags/:dag_id/dagRuns": "runs:edit",
  "POST /dags/:dag_id/dagRuns/list": "dags:read",
  "GET /dags/:dag_id/dagRuns/:dag_run_id": "dags:read",
  "PATCH /dags/:dag_id/dagRuns/:dag_run_id": "runs:edit",
  "DELETE /dags/:dag_id/dagRuns/:dag_run_id": "runs:edit",
  "POST /dags/:dag_id/dagRuns/:dag_run_id/clear": "runs:edit",
  "GET /dags/:dag_id/dagRuns/:dag_run_id/wait": "dags:read",
  "GET /dags/:dag_id/dagRuns/:dag_run_id/upstreamAssetEvents": "dags:read",
  "POST /dags/:dag_id/clearTaskInstances": "runs:edit",
  // Task instances (with and without a map index), their tries, dependencies and logs
  "GET /dags/:dag_id/dagRuns/:dag_run_id/taskInstances": "dags:read",
  "GET /leoflow/dags/:dag_id/dagRuns/:dag_run_id/taskInstanceStates": "dags:read",
  "GET /leoflow/dags/:dag_id/dagRuns/:dag_run_id/taskInstanceSummaries": "dags:read",
  "GET /leoflow/dags/:dag_id/taskInstanceSummaries": "dags:read",
  "GET /leoflow/dags/:dag_id/structure": "dags:read",
  "PATCH /dags/:dag_id/dagRuns/:dag_run_id/taskInstances": "runs:edit",
  "POST /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/list": "dags:read",
  "GET /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id": "dags:read",
  "PATCH /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id": "runs:edit",
  "PATCH /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/dry_run": "runs:edit",
  "GET /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/dependencies": "dags:read",
  "GET /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/tries": "dags:read",
  "GET /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/listMapped": "dags:read",
  "GET /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/tries/:task_try_number": "dags:read",
  "GET /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/:map_index": "dags:read",
  "PATCH /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/:map_index": "runs:edit",
  "PATCH /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/:map_index/dry_run": "runs:edit",
  "GET /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/:map_index/dependencies": "dags:read",
  "GET /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/:map_index/tries": "dags:read",
  "GET /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/:map_index/tries/:task_try_number": "dags:read",
  "GET /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/logs/:try_number": "dags:read",
  "GET /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/externalLogUrl/:try_number": "dags:read",
  "GET /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/links": "dags:read",
  // XComs: reading goes with the DAG; writing is Op's (FAB gives XCom changes to Op and up)
  "GET /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/xcomEntries": "dags:read",
  "POST /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/xcomEntries": "xcom:edit",
  "GET /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/xcomEntries/:xcom_key": "dags:read",
  "PATCH /dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/xcomEntries/:xcom_key": "xcom:edit",
  // Backfills create runs: the User role's
  "GET /backfills": "dags:read",
  "POST /backfills": "runs:edit",
  "POST /backfills/dry_run": "runs:edit",
  "GET /backfills/:backfill_id": "dags:read",
  "PUT /backfills/:backfill_id/pause": "runs:edit",
  "PUT /backfills/:backfill_id/unpause": "runs:edit",
  "PUT /backfills/:backfill_id/cancel": "runs:edit",
  // Pools: everyone reads them, Op changes them
  "GET /pools": "pools:read",
  "PATCH /pools": "pools:edit",
  "POST /pools": "pools:edit",
  "GET /pools/:pool_name": "pools:read",
  "PATCH /pools/:pool_name": "pools:edit",
  "DELETE /pools/:pool_name": "pools:edit",
  // Variables, connections, configuration: Op and Admin
  "GET /variables": "variables:read",
  "PATCH /variables": "variables:edit",
  "POST /variables": "variables:edit",
  "GET /variables/:variable_key": "variables:read",
  "PATCH /variables/:variable_key": "variables:edit",
  "DELETE /variables/:variable_key": "variables:edit",
  "GET /connections": "connections:read",
  "PATCH /connections": "connections:edit",
  "POST /connections": "connections:edit",
  "POST /connections/test": "connections:edit",
  "GET /connections/:connection_id": "connections:read",
  "PATCH /connections/:connection_id": "connections:edit",
  "DELETE /connections/:connection_id": "connections:edit",
  "GET /config": "config:read",
  "GET /config/section/:section/option/:option": "config:read",
  // Audit log and users: Admin only
  "GET /eventLogs": "audit_log:read",
  "GET /eventLogs/:event_log_id": "audit_log:read",
  "GET /leoflow/users": "users:manage",
  "POST /leoflow/users": "users:manage",
  "GET /leoflow/users/:username": "users:manage",
  "PATCH /leoflow/users/:username": "users:manage",
  "DELETE /leoflow/users/:username": "users:manage",
  "PUT /leoflow/users/:username/roles/:team": "users:manage",
  "DELETE /leoflow/users/:username/roles/:team": "users:manage",
  // Teams: install-wide like users (authorize lets only Admins of team `default` manage either)
  "GET /leoflow/teams": "users:manage",
  "POST /leoflow/teams": "users:manage",
  "GET /leoflow/teams/:team": "users:manage",
  "PATCH /leoflow/teams/:team": "users:manage",
  "DELETE /leoflow/teams/:team": "users:manage",
  // Leoflow's own
  "GET /leoflow/events": "dags:read",
  "GET /leoflow/webhooks": "webhooks:manage",
  "POST /leoflow/webhooks": "webhooks:manage",
  "GET /leoflow/webhooks/:id": "webhooks:manage",
  "PATCH /leoflow/webhooks/:id": "webhooks:manage",
  "DELETE /leoflow/webhooks/:id": "webhooks:manage",
  "POST /leoflow/webhooks/:id/test": "webhooks:manage",
  "GET /leoflow/webhooks/:id/deliveries": "webhooks:manage",
  "POST /leoflow/webhooks/deliveries/:id/redeliver": "webhooks:manage",
  // Who the caller is (their own roles): every role holds dags:read
  "GET /leoflow/me": "dags:read",
};

/** `METHOD /path` with every `:param` (and its `{regex}`) reduced to `:`, and without the /api/v2 prefix. */
export function routeKey(method: string, path: string, prefix = ""): string {
  const rel = prefix && path.startsWith(prefix) ? path.slice(prefix.length) : path;
  return `${method.toUpperCase()} ${rel.replace(/:[^/{]+(\{[^}]*\})?/g, ":") || "/"}`;
}

const BY_KEY = new Map(Object.entries(TABLE).map(([k, p]) => [routeKey(k.split(" ")[0]!, k.split(" ")[1]!), p]));

/** The permission a route needs; undefined when the table has no entry (callers fail closed). */
export function permissionFor(method: string, path: string, prefix = ""): Permission | undefined {
  return BY_KEY.get(routeKey(method, path, prefix));
}
