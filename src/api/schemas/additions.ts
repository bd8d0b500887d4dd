/**
 * Routes added in issue 15's round (bulk PATCH, batch lists, dependencies, dagStats/Tags/Warnings/Versions/
 * Sources, parseDagFile, config, eventLogs, wait, users), from Airflow 3's response schemas. Request
 * schemas are looked up by name in the route modules (see requestSchema), so a rename leaves a route
 * less documented, never broken.
 */
import { z } from "zod";
import * as configRoutes from "../config";
import * as connectionRoutes from "../connections";
import * as dagStatRoutes from "../dag-stats";
import * as dagVersionRoutes from "../dag-versions";
import * as eventLogRoutes from "../event-logs";
import * as runListRoutes from "../dag-runs-list";
import * as waitRoutes from "../dag-run-wait";
import * as dagRoutes from "../dags";
import * as markRoutes from "../mark";
import { describeRoute, requestSchema } from "../openapi-registry";
import * as poolRoutes from "../pools";
import * as tiRoutes from "../task-instances";
import * as tiBulkRoutes from "../task-instances-bulk";
import * as tiStateRoutes from "../task-instance-states";
import * as userRoutes from "../users";
import * as teamRoutes from "../teams";
import * as variableRoutes from "../variables";
import * as xcomRoutes from "../xcom";
import { DagVersion, DateTime, ErrorResponse, collection, int, nstr } from "./common";
import { DagCollection } from "./dags";
import { DagRunCollection, DagRunState } from "./dag-runs";
import { TaskInstanceCollection, TaskInstanceResponse } from "./task-instances";
import { XComResponseNative } from "./xcom-logs";

const BulkAction = z.looseObject({
  success: z.array(z.string()).optional(),
  errors: z.array(z.record(z.string(), z.unknown())).optional(),
});
export const BulkResponse = z.looseObject({
  create: BulkAction.nullable().optional(),
  update: BulkAction.nullable().optional(),
  delete: BulkAction.nullable().optional(),
});
export const TaskDependencies = z.looseObject({ dependencies: z.array(z.looseObject({ name: z.string(), reason: z.string() })) });
export const DagStats = collection(
  "dags",
  z.looseObject({ dag_id: z.string(), dag_display_name: z.string(), stats: z.array(z.looseObject({ state: DagRunState, count: int })) }),
);
export const DagWarning = z.looseObject({
  dag_id: z.string(),
  dag_display_name: z.string(),
  warning_type: z.enum(["asset conflict", "non-existent pool", "runtime varying value"]),
  message: z.string(),
  timestamp: DateTime,
});
export const DagSource = z.looseObject({
  content: nstr.optional(),
  dag_id: z.string(),
  version_number: int.nullable().optional(),
  dag_display_name: z.string(),
});
export const ConfigResponse = z.looseObject({
  sections: z.array(
    z.looseObject({
      name: z.string(),
      options: z.array(z.looseObject({ key: z.string(), value: z.union([z.string(), z.array(z.unknown())]) })),
    }),
  ),
});
export const EventLogResponse = z.looseObject({
  event_log_id: int,
  when: DateTime,
  dag_id: nstr.optional(),
  task_id: nstr.optional(),
  run_id: nstr.optional(),
  map_index: int.nullable().optional(),
  try_number: int.nullable().optional(),
  event: z.string(),
  logical_date: DateTime.nullable().optional(),
  owner: nstr.optional(),
  extra: nstr.optional(),
  dag_display_name: nstr.optional(),
  task_display_name: nstr.optional(),
});
/** Leoflow's user view (no password hash, ever). */
export const UserResponse = z.looseObject({
  username: z.string(),
  /** The role in team `default`; null when the user has none there. */
  role: z.string().nullable(),
  roles: z.array(z.looseObject({ team: z.string(), role: z.string() })),
  created_at: DateTime,
});
/** Leoflow's team: quotas (null: unlimited) and where its tasks may run. */
export const TeamResponse = z.looseObject({
  name: z.string(),
  description: nstr,
  max_running_tasks: int.nullable(),
  max_pool_slots: int.nullable(),
  max_inline_requests: int.nullable(),
  executor_policy: z.record(z.string(), z.unknown()),
  created_at: DateTime,
});

const dagId = { dag_id: z.string() };
const runKey = { ...dagId, dag_run_id: z.string() };
const tiKey = { ...runKey, task_id: z.string() };
const mapped = { ...tiKey, map_index: z.number().int() };
const nf = { 404: ErrorResponse };
const TI = "/api/v2/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id";

// DAGs (D)
describeRoute({
  method: "PATCH",
  path: "/api/v2/dags",
  summary: "Pause or unpause every DAG a filter matches",
  tag: "DAG",
  query: requestSchema(dagRoutes, "PatchDagsQuery"),
  body: requestSchema(dagRoutes, "DagPatchBody"),
  responses: { 200: DagCollection, ...nf },
});
describeRoute({
  method: "DELETE",
  path: "/api/v2/dags/:dag_id",
  summary: "Delete a DAG and its runs",
  tag: "DAG",
  params: dagId,
  responses: { 200: z.unknown(), 204: null, ...nf, 409: ErrorResponse },
});
describeRoute({
  method: "GET",
  path: "/api/v2/dagStats",
  summary: "Run counts per state for each DAG",
  tag: "DagStats",
  responses: { 200: DagStats },
});
describeRoute({
  method: "GET",
  path: "/api/v2/dagTags",
  summary: "List tags",
  tag: "DAG",
  responses: { 200: collection("tags", z.string()) },
});
describeRoute({
  method: "GET",
  path: "/api/v2/dagWarnings",
  summary: "List DAG warnings",
  tag: "DagWarning",
  query: requestSchema(dagStatRoutes, "WarningsQuery"),
  responses: { 200: collection("dag_warnings", DagWarning) },
});
describeRoute({
  method: "GET",
  path: "/api/v2/dags/:dag_id/dagVersions",
  summary: "List a DAG's versions",
  tag: "DagVersion",
  query: requestSchema(dagVersionRoutes, "ListVersionsQuery"),
  params: dagId,
  responses: { 200: collection("dag_versions", DagVersion), ...nf },
});
describeRoute({
  method: "GET",
  path: "/api/v2/dags/:dag_id/dagVersions/:version_number",
  summary: "Get a DAG version",
  tag: "DagVersion",
  params: { ...dagId, version_number: z.number().int() },
  responses: { 200: DagVersion, ...nf },
});
describeRoute({
  method: "GET",
  path: "/api/v2/dagSources/:dag_id",
  summary: "A DAG's source (JSON, or text with `Accept: text/plain`)",
  tag: "DagSource",
  params: dagId,
  responses: { 200: DagSource, ...nf, 406: ErrorResponse },
  produces: ["text/plain"],
});
describeRoute({
  method: "PUT",
  path: "/api/v2/parseDagFile/:file_token",
  summary: "Reparse a DAG file now",
  tag: "DagParsing",
  params: { file_token: z.string() },
  responses: { 201: z.null(), ...nf },
});

// DAG runs and task instances (R)
describeRoute({
  method: "DELETE",
  path: "/api/v2/dags/:dag_id/dagRuns/:dag_run_id",
  summary: "Delete a DAG run",
  tag: "DagRun",
  params: runKey,
  responses: { 204: null, ...nf, 409: ErrorResponse },
});
describeRoute({
  method: "POST",
  path: "/api/v2/dags/:dag_id/dagRuns/list",
  summary: "List DAG runs with filters in the body",
  tag: "DagRun",
  params: dagId,
  body: requestSchema(runListRoutes, "DagRunsBatchBody"),
  responses: { 200: DagRunCollection, ...nf },
});
describeRoute({
  method: "GET",
  path: "/api/v2/dags/:dag_id/dagRuns/:dag_run_id/wait",
  summary: "Wait for a DAG run to end (NDJSON stream of its state)",
  tag: "DagRun",
  params: runKey,
  query: requestSchema(waitRoutes, "WaitQuery"),
  responses: { 200: { contentType: "application/x-ndjson" }, ...nf },
});
describeRoute({
  method: "POST",
  path: "/api/v2/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/list",
  summary: "List task instances with filters in the body",
  tag: "TaskInstance",
  params: runKey,
  body: requestSchema(tiRoutes, "TisBatchBody"),
  responses: { 200: TaskInstanceCollection, ...nf },
});
describeRoute({
  method: "GET",
  path: `${TI}/listMapped`,
  summary: "List a task's mapped instances",
  tag: "TaskInstance",
  params: tiKey,
  responses: { 200: TaskInstanceCollection, ...nf },
});
describeRoute({
  method: "GET",
  path: `${TI}/:map_index{-?[0-9]+}`,
  summary: "Get one mapped task instance",
  tag: "TaskInstance",
  params: mapped,
  responses: { 200: TaskInstanceResponse, ...nf },
});
describeRoute({
  method: "GET",
  path: `${TI}/dependencies`,
  summary: "Why a task instance is not running",
  tag: "TaskInstance",
  params: tiKey,
  responses: { 200: TaskDependencies, ...nf },
});
describeRoute({
  method: "GET",
  path: `${TI}/:map_index{-?[0-9]+}/dependencies`,
  summary: "Why a mapped task instance is not running",
  tag: "TaskInstance",
  params: mapped,
  responses: { 200: TaskDependencies, ...nf },
});

// A try of a task instance (Airflow's TaskInstanceHistoryResponse): TaskInstanceResponse less id, dates of the run, note.
const TaskInstanceTry = TaskInstanceResponse.omit({
  id: true,
  logical_date: true,
  run_after: true,
  note: true,
  rendered_map_index: true,
  rendered_fields: true,
  trigger: true,
  triggerer_job: true,
});
const tryKey = { ...tiKey, task_try_number: z.number().int() };
for (const prefix of [TI, `${TI}/:map_index{-?[0-9]+}`]) {
  describeRoute({
    method: "GET",
    path: `${prefix}/tries`,
    summary: "Every try of a task instance, oldest first",
    tag: "TaskInstance",
    params: tiKey,
    responses: { 200: collection("task_instances", TaskInstanceTry), ...nf },
  });
  describeRoute({
    method: "GET",
    path: `${prefix}/tries/:task_try_number`,
    summary: "One try of a task instance",
    tag: "TaskInstance",
    params: tryKey,
    responses: { 200: TaskInstanceTry, ...nf },
  });
}

describeRoute({
  method: "PATCH",
  path: "/api/v2/dags/:dag_id/dagRuns/:dag_run_id/taskInstances",
  summary: "Update many task instances of a run in one call",
  tag: "TaskInstance",
  params: runKey,
  body: requestSchema(tiBulkRoutes, "BulkTaskInstancesBody"),
  responses: { 200: BulkResponse, ...nf },
});

const patchTi = {
  query: requestSchema(markRoutes, "MaskQuery"),
  body: requestSchema(markRoutes, "PatchTaskInstanceBody"),
  responses: { 200: TaskInstanceCollection, ...nf, 409: ErrorResponse },
};
describeRoute({
  method: "PATCH",
  path: `${TI}/dry_run`,
  summary: "Which task instances a PATCH would change",
  tag: "TaskInstance",
  params: tiKey,
  ...patchTi,
});
describeRoute({
  method: "PATCH",
  path: `${TI}/:map_index{-?[0-9]+}`,
  summary: "Set a mapped task instance's state or note",
  tag: "TaskInstance",
  params: mapped,
  ...patchTi,
});
describeRoute({
  method: "PATCH",
  path: `${TI}/:map_index{-?[0-9]+}/dry_run`,
  summary: "Which mapped task instances a PATCH would change",
  tag: "TaskInstance",
  params: mapped,
  ...patchTi,
});
describeRoute({
  method: "POST",
  path: `${TI}/xcomEntries`,
  summary: "Create an XCom entry",
  tag: "XCom",
  params: tiKey,
  body: requestSchema(xcomRoutes, "XComCreateBody"),
  responses: { 201: XComResponseNative, ...nf, 409: ErrorResponse },
});
describeRoute({
  method: "PATCH",
  path: `${TI}/xcomEntries/:xcom_key`,
  summary: "Update an XCom entry's value",
  tag: "XCom",
  params: { ...tiKey, xcom_key: z.string() },
  body: requestSchema(xcomRoutes, "XComUpdateBody"),
  responses: { 200: XComResponseNative, ...nf },
});

describeRoute({
  method: "PATCH",
  path: "/api/v2/dags/:dag_id/dagRuns/:dag_run_id/taskInstances",
  summary: "Update and delete a run's task instances in one call",
  tag: "TaskInstance",
  params: runKey,
  body: requestSchema(tiBulkRoutes, "BulkTaskInstancesBody"),
  responses: { 200: BulkResponse, ...nf },
});

describeRoute({
  method: "GET",
  path: `${TI}/links`,
  summary: "A task instance's extra links",
  tag: "TaskInstance",
  params: tiKey,
  responses: { 200: z.looseObject({ extra_links: z.record(z.string(), z.string().nullable()), total_entries: int }), ...nf },
});
describeRoute({
  method: "GET",
  path: `${TI}/externalLogUrl/:try_number`,
  summary: "Where a try's log lives outside Leoflow",
  tag: "TaskInstance",
  params: { ...tiKey, try_number: z.number().int() },
  responses: { 200: z.looseObject({ url: z.string() }), 400: ErrorResponse, ...nf },
});
describeRoute({
  method: "GET",
  path: "/api/v2/dags/:dag_id/dagRuns/:dag_run_id/upstreamAssetEvents",
  summary: "Asset events that triggered a run (none: Leoflow has no assets)",
  tag: "DagRun",
  params: runKey,
  responses: { 200: collection("asset_events", z.looseObject({ id: int, timestamp: DateTime })), ...nf },
});

// Variables, connections, pools, config, event logs (V)
describeRoute({
  method: "PATCH",
  path: "/api/v2/variables",
  summary: "Create, update and delete variables in one call",
  tag: "Variable",
  body: requestSchema(variableRoutes, "BulkVariablesBody"),
  responses: { 200: BulkResponse },
});
describeRoute({
  method: "PATCH",
  path: "/api/v2/connections",
  summary: "Create, update and delete connections in one call",
  tag: "Connection",
  body: requestSchema(connectionRoutes, "BulkConnectionsBody"),
  responses: { 200: BulkResponse },
});
describeRoute({
  method: "PATCH",
  path: "/api/v2/pools",
  summary: "Create, update and delete pools in one call",
  tag: "Pool",
  body: requestSchema(poolRoutes, "BulkPoolsBody"),
  responses: { 200: BulkResponse },
});
describeRoute({
  method: "POST",
  path: "/api/v2/connections/test",
  summary: "Test a connection without saving it",
  tag: "Connection",
  body: requestSchema(connectionRoutes, "ConnectionBody"),
  responses: { 200: z.looseObject({ status: z.boolean(), message: z.string() }), ...nf },
});
describeRoute({
  method: "GET",
  path: "/api/v2/config",
  summary: "The server's configuration, secrets hidden",
  tag: "Config",
  query: requestSchema(configRoutes, "ConfigQuery"),
  responses: { 200: ConfigResponse, ...nf, 406: ErrorResponse },
  produces: ["text/plain"],
});
describeRoute({
  method: "GET",
  path: "/api/v2/config/section/:section/option/:option",
  summary: "One configuration option",
  tag: "Config",
  params: { section: z.string(), option: z.string() },
  responses: { 200: ConfigResponse, ...nf, 406: ErrorResponse },
  produces: ["text/plain"],
});
describeRoute({
  method: "GET",
  path: "/api/v2/eventLogs",
  summary: "List audit entries (who did what, when)",
  tag: "EventLog",
  query: requestSchema(eventLogRoutes, "ListQuery"),
  responses: { 200: collection("event_logs", EventLogResponse) },
});
describeRoute({
  method: "GET",
  path: "/api/v2/eventLogs/:event_log_id",
  summary: "Get an audit entry",
  tag: "EventLog",
  params: { event_log_id: z.number().int() },
  responses: { 200: EventLogResponse, ...nf },
});
describeRoute({
  method: "GET",
  path: "/api/v2/importErrors/:import_error_id",
  summary: "Get an import error",
  tag: "ImportError",
  params: { import_error_id: z.number().int() },
  responses: { 200: z.looseObject({ import_error_id: int, filename: z.string(), stack_trace: z.string() }), ...nf },
});

// Users (U): Leoflow's own, Admin only.
const USERS = "/api/v2/leoflow/users";
const username = { username: z.string() };
describeRoute({
  method: "GET",
  path: USERS,
  summary: "Leoflow: list users",
  tag: "Leoflow",
  query: requestSchema(userRoutes, "ListQuery"),
  responses: { 200: collection("users", UserResponse) },
});
describeRoute({
  method: "GET",
  path: `${USERS}/:username`,
  summary: "Leoflow: get a user",
  tag: "Leoflow",
  params: username,
  responses: { 200: UserResponse, ...nf },
});
describeRoute({
  method: "POST",
  path: USERS,
  summary: "Leoflow: create a user (role Admin, Op, User or Viewer)",
  tag: "Leoflow",
  body: requestSchema(userRoutes, "CreateBody"),
  responses: { 201: UserResponse, 409: ErrorResponse },
});
describeRoute({
  method: "PATCH",
  path: `${USERS}/:username`,
  summary: "Leoflow: change a user's role or password",
  tag: "Leoflow",
  params: username,
  body: requestSchema(userRoutes, "PatchBody"),
  responses: { 200: UserResponse, ...nf, 409: ErrorResponse },
});
describeRoute({
  method: "DELETE",
  path: `${USERS}/:username`,
  summary: "Leoflow: delete a user",
  tag: "Leoflow",
  params: username,
  responses: { 204: null, ...nf, 409: ErrorResponse },
});
const userTeam = { username: z.string(), team: z.string() };
describeRoute({
  method: "PUT",
  path: `${USERS}/:username/roles/:team`,
  summary: "Leoflow: give a user a role in a team",
  tag: "Leoflow",
  params: userTeam,
  body: requestSchema(userRoutes, "PutRoleBody"),
  responses: { 200: UserResponse, ...nf, 409: ErrorResponse },
});
describeRoute({
  method: "DELETE",
  path: `${USERS}/:username/roles/:team`,
  summary: "Leoflow: remove a user's role in a team",
  tag: "Leoflow",
  params: userTeam,
  responses: { 204: null, ...nf, 409: ErrorResponse },
});

// Teams: Leoflow's own, install admins only.
const TEAMS = "/api/v2/leoflow/teams";
const teamParam = { team: z.string() };
describeRoute({
  method: "GET",
  path: TEAMS,
  summary: "Leoflow: list teams",
  tag: "Leoflow",
  query: requestSchema(teamRoutes, "ListTeamsQuery"),
  responses: { 200: collection("teams", TeamResponse) },
});
describeRoute({
  method: "POST",
  path: TEAMS,
  summary: "Leoflow: create a team (with its own default_pool)",
  tag: "Leoflow",
  body: requestSchema(teamRoutes, "CreateTeamBody"),
  responses: { 201: TeamResponse, 409: ErrorResponse },
});
describeRoute({
  method: "GET",
  path: `${TEAMS}/:team`,
  summary: "Leoflow: get a team",
  tag: "Leoflow",
  params: teamParam,
  responses: { 200: TeamResponse, ...nf },
});
describeRoute({
  method: "PATCH",
  path: `${TEAMS}/:team`,
  summary: "Leoflow: change a team's description, quotas or executor policy",
  tag: "Leoflow",
  params: teamParam,
  body: requestSchema(teamRoutes, "PatchTeamBody"),
  responses: { 200: TeamResponse, ...nf },
});
describeRoute({
  method: "DELETE",
  path: `${TEAMS}/:team`,
  summary: "Leoflow: delete a team that owns no DAGs",
  tag: "Leoflow",
  params: teamParam,
  responses: { 204: null, ...nf, 409: ErrorResponse },
});

/** The caller: the team this request acts in, the role it acts with there, and every team they hold a role in. */
export const MeResponse = z.looseObject({
  username: nstr,
  team: z.string(),
  role: z.enum(["Admin", "Op", "User", "Viewer"]),
  roles: z.array(z.looseObject({ team: z.string(), role: z.string() })),
  install_admin: z.boolean(),
});
describeRoute({
  method: "GET",
  path: "/api/v2/leoflow/me",
  summary: "Leoflow: the caller, their role in the request's team (Leoflow-Team header) and their roles in every team",
  tag: "Leoflow",
  responses: { 200: MeResponse, ...nf },
});

/** A task instance as the DAG page's grid draws it (task-instance-states.ts): TaskInstanceResponse's fields of these names. */
export const TaskInstanceStateResponse = z.looseObject({
  task_id: z.string(),
  map_index: int,
  state: nstr,
  try_number: int,
  max_tries: int,
  start_date: DateTime.nullable(),
  end_date: DateTime.nullable(),
  duration: z.number().nullable(),
});
describeRoute({
  method: "GET",
  path: "/api/v2/leoflow/dags/:dag_id/dagRuns/:dag_run_id/taskInstanceStates",
  summary:
    "Leoflow: a run's task instances with only what a grid draws (state, try, start, end, duration), in the list's order, up to 10,000 a page",
  tag: "Leoflow",
  params: { dag_id: z.string(), dag_run_id: z.string() },
  query: requestSchema(tiStateRoutes, "TaskInstanceStatesQuery"),
  responses: { 200: collection("task_instances", TaskInstanceStateResponse), 404: ErrorResponse },
});

/** A task as the DAG page's grid and graph draw it (GET /api/v2/leoflow/dags/{dag_id}/structure). */
export const TaskStructureResponse = z.looseObject({
  task_id: z.string(),
  upstream_task_ids: z.array(z.string()),
  is_mapped: z.literal(true).optional(),
});
describeRoute({
  method: "GET",
  path: "/api/v2/leoflow/dags/:dag_id/structure",
  summary:
    "Leoflow: a DAG's tasks with only what a grid and graph draw (task id, upstream task ids, is_mapped when true), in the DAG's order; answered with a weak ETag, 304 to a matching If-None-Match",
  tag: "Leoflow",
  params: { dag_id: z.string() },
  responses: { 200: collection("tasks", TaskStructureResponse), 304: null, 404: ErrorResponse },
});

/** One task of a run as the DAG page's grid draws it: a task instance's state, or a mapped task's instances folded. */
export const TaskInstanceSummaryResponse = TaskInstanceStateResponse.extend({
  map_index: int.nullable(),
  mapped_count: int.optional(),
  mapped_states: z.record(z.string(), int).optional(),
});
describeRoute({
  method: "GET",
  path: "/api/v2/leoflow/dags/:dag_id/dagRuns/:dag_run_id/taskInstanceSummaries",
  summary:
    "Leoflow: a run's tasks as a grid draws them: each task instance's state, try, start, end and duration; a mapped task's instances as one entry (map_index null) with their count and states counted",
  tag: "Leoflow",
  params: { dag_id: z.string(), dag_run_id: z.string() },
  responses: { 200: collection("task_instances", TaskInstanceSummaryResponse), 404: ErrorResponse },
});
describeRoute({
  method: "GET",
  path: "/api/v2/leoflow/dags/:dag_id/taskInstanceSummaries",
  summary:
    "Leoflow: taskInstanceSummaries of some runs (dag_run_id, repeated, up to 100) for some tasks (task_id, repeated, up to 1,000; all when absent) at once: the rows of a wide DAG's grid in view",
  tag: "Leoflow",
  params: { dag_id: z.string() },
  query: requestSchema(tiStateRoutes, "TaskInstanceWindowQuery"),
  responses: {
    200: z.looseObject({
      dag_runs: z.array(z.looseObject({ dag_run_id: z.string(), task_instances: z.array(TaskInstanceSummaryResponse) })),
    }),
    404: ErrorResponse,
    422: ErrorResponse,
  },
});
