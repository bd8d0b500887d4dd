/** TaskInstanceResponse and the taskInstances routes (list, get, patch state, clear). */
import { z } from "zod";
import * as clearRoutes from "../clear";
import * as markRoutes from "../mark";
import { requestSchema, describeRoute } from "../openapi-registry";
import * as tiRoutes from "../task-instances";
import { DagVersion, DateTime, ErrorResponse, NullableDateTime, collection, int, nstr } from "./common";

const ClearTaskInstancesBody = requestSchema(clearRoutes, "ClearTaskInstancesBody");
const MaskQuery = requestSchema(markRoutes, "MaskQuery");
const PatchTaskInstanceBody = requestSchema(markRoutes, "PatchTaskInstanceBody");
const ListTisQuery = requestSchema(tiRoutes, "ListTisQuery");

export const TaskInstanceState = z.enum([
  "removed",
  "scheduled",
  "queued",
  "running",
  "success",
  "restarting",
  "failed",
  "up_for_retry",
  "up_for_reschedule",
  "upstream_failed",
  "skipped",
  "deferred",
]);

export const TaskInstanceResponse = z.looseObject({
  id: z.uuid(), // derived from the row id: stable, UUID v5 layout
  task_id: z.string(),
  dag_id: z.string(),
  dag_run_id: z.string(),
  map_index: int,
  logical_date: NullableDateTime.optional(),
  run_after: DateTime.nullable(), // GAP(issue 15): required date-time in Airflow; null when the run is unknown
  start_date: NullableDateTime.optional(),
  end_date: NullableDateTime.optional(),
  duration: z.number().nullable().optional(),
  state: TaskInstanceState.nullable().optional(),
  try_number: int,
  max_tries: int,
  task_display_name: z.string(),
  dag_display_name: z.string(),
  hostname: nstr.optional(),
  unixname: nstr.optional(),
  pool: z.string(),
  pool_slots: int,
  queue: nstr.optional(),
  priority_weight: int.nullable().optional(),
  operator: nstr.optional(),
  operator_name: nstr.optional(),
  queued_when: NullableDateTime.optional(),
  scheduled_when: NullableDateTime.optional(),
  pid: int.nullable().optional(),
  executor: nstr.optional(),
  executor_config: z.string(),
  note: nstr.optional(),
  rendered_map_index: nstr.optional(),
  rendered_fields: z.record(z.string(), z.unknown()).optional(),
  trigger: z.looseObject({ id: int, classpath: z.string(), kwargs: z.string(), created_date: DateTime }).nullable().optional(),
  triggerer_job: z.looseObject({ id: int }).nullable().optional(),
  dag_version: DagVersion.nullable().optional(),
  /** Leoflow addition: when the agent last reported in. */
  last_heartbeat: NullableDateTime.optional(),
  /** Leoflow addition: the note a user wrote (null when `note` shows the system's reason, e.g. a full pool or an exit code). */
  user_note: nstr.optional(),
});

export const TaskInstanceCollection = collection("task_instances", TaskInstanceResponse);

const tag = "TaskInstance";
const runKey = { dag_id: z.string(), dag_run_id: z.string() };
const tiKey = { ...runKey, task_id: z.string() };
const base = "/api/v2/dags/:dag_id/dagRuns/:dag_run_id/taskInstances";
describeRoute({
  method: "GET",
  path: base,
  summary: "List a run's task instances",
  tag,
  params: runKey,
  query: ListTisQuery,
  responses: { 200: TaskInstanceCollection, 404: ErrorResponse },
});
describeRoute({
  method: "GET",
  path: `${base}/:task_id`,
  summary: "Get a task instance",
  tag,
  params: tiKey,
  responses: { 200: TaskInstanceResponse, 404: ErrorResponse },
});
describeRoute({
  method: "PATCH",
  path: `${base}/:task_id`,
  summary: "Set a task instance's state or note",
  tag,
  params: tiKey,
  query: MaskQuery,
  body: PatchTaskInstanceBody,
  responses: { 200: TaskInstanceCollection, 404: ErrorResponse, 409: ErrorResponse },
});
describeRoute({
  method: "POST",
  path: "/api/v2/dags/:dag_id/clearTaskInstances",
  summary: "Clear task instances",
  tag,
  params: { dag_id: z.string() },
  body: ClearTaskInstancesBody,
  responses: { 200: TaskInstanceCollection, 404: ErrorResponse, 409: ErrorResponse },
});
