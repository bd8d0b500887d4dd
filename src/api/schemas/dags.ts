/** DAGResponse, DAGDetailsResponse, TaskResponse and the /dags routes. */
import { z } from "zod";
import * as dagRoutes from "../dags";
import { requestSchema, describeRoute } from "../openapi-registry";
import { DagVersion, ErrorResponse, NullableDateTime, TimeDelta, collection, int, nstr } from "./common";

const DagPatchBody = requestSchema(dagRoutes, "DagPatchBody");
const ListDagsQuery = requestSchema(dagRoutes, "ListDagsQuery");

export const DagTag = z.looseObject({
  name: z.string(),
  dag_id: z.string(),
  dag_display_name: z.string(),
});

export const DagResponse = z.looseObject({
  dag_id: z.string(),
  dag_display_name: z.string(),
  is_paused: z.boolean(),
  is_stale: z.boolean(),
  last_parsed_time: NullableDateTime.optional(),
  last_expired: NullableDateTime.optional(),
  bundle_name: nstr.optional(),
  bundle_version: nstr.optional(),
  relative_fileloc: nstr.optional(),
  fileloc: z.string(),
  description: nstr.optional(),
  timetable_summary: nstr.optional(),
  timetable_description: nstr.optional(),
  timetable_partitioned: z.boolean(),
  tags: z.array(DagTag),
  max_active_tasks: int,
  max_active_runs: int.nullable().optional(),
  max_consecutive_failed_dag_runs: int,
  has_task_concurrency_limits: z.boolean(),
  has_import_errors: z.boolean(),
  next_dagrun_logical_date: NullableDateTime.optional(),
  next_dagrun_data_interval_start: NullableDateTime.optional(),
  next_dagrun_data_interval_end: NullableDateTime.optional(),
  next_dagrun_run_after: NullableDateTime.optional(),
  owners: z.array(z.string()),
  file_token: z.string(),
  /** Leoflow addition: the DAG version new runs pin. */
  version_id: int.optional(),
});

export const DagDetailsResponse = DagResponse.extend({
  catchup: z.boolean(),
  dag_run_timeout: z.string().nullable(), // an ISO 8601 duration, as Airflow sends it
  asset_expression: z.record(z.string(), z.unknown()).nullable().optional(),
  doc_md: nstr.optional(),
  start_date: NullableDateTime.optional(),
  end_date: NullableDateTime.optional(),
  is_paused_upon_creation: z.boolean().nullable().optional(),
  params: z.record(z.string(), z.unknown()).nullable().optional(),
  render_template_as_native_obj: z.boolean(),
  template_search_path: z.array(z.string()).nullable().optional(),
  timezone: nstr.optional(),
  last_parsed: NullableDateTime.optional(),
  default_args: z.record(z.string(), z.unknown()).nullable().optional(),
  concurrency: int,
  latest_dag_version: DagVersion.nullable().optional(),
});

export const TaskResponse = z.looseObject({
  task_id: nstr.optional(),
  task_display_name: nstr.optional(),
  owner: nstr.optional(),
  start_date: NullableDateTime.optional(),
  end_date: NullableDateTime.optional(),
  trigger_rule: nstr.optional(),
  depends_on_past: z.boolean(),
  wait_for_downstream: z.boolean(),
  retries: z.number().nullable().optional(),
  queue: nstr.optional(),
  pool: nstr.optional(),
  pool_slots: z.number().nullable().optional(),
  execution_timeout: TimeDelta.nullable().optional(),
  retry_delay: TimeDelta.nullable().optional(),
  retry_exponential_backoff: z.number(), // the multiplier: 0 off, 2 doubling
  priority_weight: z.number().nullable().optional(),
  weight_rule: nstr.optional(),
  ui_color: nstr.optional(),
  ui_fgcolor: nstr.optional(),
  template_fields: z.array(z.string()).nullable().optional(),
  downstream_task_ids: z.array(z.string()).nullable().optional(),
  doc_md: nstr.optional(),
  operator_name: nstr.optional(),
  params: z.record(z.string(), z.unknown()).nullable().optional(),
  class_ref: z.record(z.string(), z.unknown()).nullable().optional(),
  is_mapped: z.boolean().nullable().optional(),
  extra_links: z.array(z.string()),
  /** Leoflow additions: the graph edges as written, and where the task runs. */
  upstream_task_ids: z.array(z.string()).optional(),
  executor: nstr.optional(),
});

export const DagCollection = collection("dags", DagResponse);
export const TaskCollection = collection("tasks", TaskResponse);

const dagId = { dag_id: z.string() };
const tag = "DAG";
describeRoute({ method: "GET", path: "/api/v2/dags", summary: "List DAGs", tag, query: ListDagsQuery, responses: { 200: DagCollection } });
describeRoute({
  method: "GET",
  path: "/api/v2/dags/:dag_id",
  summary: "Get a DAG",
  tag,
  params: dagId,
  responses: { 200: DagResponse, 404: ErrorResponse },
});
describeRoute({
  method: "PATCH",
  path: "/api/v2/dags/:dag_id",
  summary: "Pause or unpause a DAG",
  tag,
  params: dagId,
  body: DagPatchBody,
  responses: { 200: DagResponse, 404: ErrorResponse },
});
describeRoute({
  method: "GET",
  path: "/api/v2/dags/:dag_id/details",
  summary: "Get a DAG's details",
  tag,
  params: dagId,
  responses: { 200: DagDetailsResponse, 404: ErrorResponse },
});
describeRoute({
  method: "GET",
  path: "/api/v2/dags/:dag_id/tasks",
  summary: "List a DAG's tasks",
  tag: "Task",
  params: dagId,
  query: z.object({ order_by: z.string().optional() }),
  responses: { 200: TaskCollection, 404: ErrorResponse },
});
describeRoute({
  method: "GET",
  path: "/api/v2/dags/:dag_id/tasks/:task_id",
  summary: "Get a task",
  tag: "Task",
  params: { ...dagId, task_id: z.string() },
  responses: { 200: TaskResponse, 404: ErrorResponse },
});
