/** DAGRunResponse and the dagRuns routes (trigger, list, get, patch, clear). */
import { z } from "zod";
import * as clearRoutes from "../clear";
import * as runRoutes from "../dag-runs";
import * as runListRoutes from "../dag-runs-list";
import * as markRoutes from "../mark";
import { requestSchema, describeRoute } from "../openapi-registry";
import { DagVersion, DateTime, ErrorResponse, NullableDateTime, collection, nstr } from "./common";
import { TaskInstanceCollection } from "./task-instances";

const ClearDagRunBody = requestSchema(clearRoutes, "ClearDagRunBody");
const TriggerDagRunBody = requestSchema(runRoutes, "TriggerDagRunBody");
const ListRunsQuery = requestSchema(runListRoutes, "ListRunsQuery");
const MaskQuery = requestSchema(markRoutes, "MaskQuery");
const PatchDagRunBody = requestSchema(markRoutes, "PatchDagRunBody");

export const DagRunState = z.enum(["queued", "running", "success", "failed"]);
export const DagRunType = z.enum(["backfill", "scheduled", "manual", "asset_triggered", "asset_materialization"]);
export const DagRunTriggeredBy = z.enum(["cli", "operator", "rest_api", "ui", "test", "timetable", "asset", "backfill"]);

export const DagRunResponse = z.looseObject({
  dag_run_id: z.string(),
  dag_id: z.string(),
  logical_date: NullableDateTime.optional(),
  queued_at: NullableDateTime.optional(),
  start_date: NullableDateTime.optional(),
  end_date: NullableDateTime.optional(),
  duration: z.number().nullable().optional(),
  data_interval_start: NullableDateTime.optional(),
  data_interval_end: NullableDateTime.optional(),
  run_after: DateTime,
  last_scheduling_decision: NullableDateTime.optional(),
  run_type: DagRunType,
  state: DagRunState,
  triggered_by: DagRunTriggeredBy.optional(),
  triggering_user_name: nstr.optional(),
  conf: z.record(z.string(), z.unknown()).nullable().optional(),
  note: nstr.optional(),
  dag_versions: z.array(DagVersion),
  bundle_version: nstr.optional(),
  dag_display_name: z.string(),
  partition_key: nstr.optional(),
});

export const DagRunCollection = collection("dag_runs", DagRunResponse);

const tag = "DagRun";
const dagId = { dag_id: z.string() };
const runKey = { dag_id: z.string(), dag_run_id: z.string() };
const base = "/api/v2/dags/:dag_id/dagRuns";
describeRoute({
  method: "POST",
  path: base,
  summary: "Trigger a DAG run",
  tag,
  params: dagId,
  body: TriggerDagRunBody,
  responses: { 200: DagRunResponse, 404: ErrorResponse, 409: ErrorResponse },
});
describeRoute({
  method: "GET",
  path: base,
  summary: "List DAG runs (`~` for every DAG)",
  tag,
  params: dagId,
  query: ListRunsQuery,
  responses: { 200: DagRunCollection, 404: ErrorResponse },
});
describeRoute({
  method: "GET",
  path: `${base}/:dag_run_id`,
  summary: "Get a DAG run",
  tag,
  params: runKey,
  responses: { 200: DagRunResponse, 404: ErrorResponse },
});
describeRoute({
  method: "PATCH",
  path: `${base}/:dag_run_id`,
  summary: "Set a DAG run's state or note",
  tag,
  params: runKey,
  query: MaskQuery,
  body: PatchDagRunBody,
  responses: { 200: DagRunResponse, 404: ErrorResponse, 409: ErrorResponse },
});
describeRoute({
  method: "POST",
  path: `${base}/:dag_run_id/clear`,
  summary: "Clear a DAG run (dry_run lists what would be cleared)",
  tag,
  params: runKey,
  body: ClearDagRunBody,
  responses: { 200: z.union([DagRunResponse, TaskInstanceCollection]), 404: ErrorResponse, 409: ErrorResponse },
});
