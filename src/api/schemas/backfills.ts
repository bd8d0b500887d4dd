/** BackfillResponse, DryRunBackfillResponse and the /backfills routes. */
import { z } from "zod";
import * as backfillRoutes from "../backfills";
import { requestSchema, describeRoute } from "../openapi-registry";
import { DateTime, ErrorResponse, NullableDateTime, collection, int, nstr } from "./common";

const BackfillPostBody = requestSchema(backfillRoutes, "BackfillPostBody");
const ListBackfillsQuery = requestSchema(backfillRoutes, "ListBackfillsQuery");

export const BackfillResponse = z.looseObject({
  id: int,
  dag_id: z.string(),
  from_date: DateTime,
  to_date: DateTime,
  dag_run_conf: z.record(z.string(), z.unknown()).nullable().optional(),
  is_paused: z.boolean(),
  reprocess_behavior: z.enum(["failed", "completed", "none"]),
  max_active_runs: int,
  created_at: DateTime,
  completed_at: NullableDateTime.optional(),
  updated_at: DateTime,
  dag_display_name: z.string(),
});
export const DryRunBackfill = z.looseObject({ logical_date: NullableDateTime.optional(), partition_key: nstr.optional() });

const tag = "Backfill";
const id = { backfill_id: z.number().int() };
describeRoute({
  method: "POST",
  path: "/api/v2/backfills",
  summary: "Create a backfill",
  tag,
  body: BackfillPostBody,
  responses: { 200: BackfillResponse, 404: ErrorResponse, 409: ErrorResponse },
});
describeRoute({
  method: "POST",
  path: "/api/v2/backfills/dry_run",
  summary: "List the runs a backfill would create",
  tag,
  body: BackfillPostBody,
  responses: { 200: collection("backfills", DryRunBackfill), 404: ErrorResponse, 409: ErrorResponse },
});
describeRoute({
  method: "GET",
  path: "/api/v2/backfills",
  summary: "List a DAG's backfills",
  tag,
  query: ListBackfillsQuery,
  responses: { 200: collection("backfills", BackfillResponse) },
});
describeRoute({
  method: "GET",
  path: "/api/v2/backfills/:backfill_id",
  summary: "Get a backfill",
  tag,
  params: id,
  responses: { 200: BackfillResponse, 404: ErrorResponse },
});
for (const action of ["pause", "unpause", "cancel"] as const)
  describeRoute({
    method: "PUT",
    path: `/api/v2/backfills/:backfill_id/${action}`,
    summary: `${action[0]!.toUpperCase()}${action.slice(1)} a backfill`,
    tag,
    params: id,
    responses: { 200: BackfillResponse, 404: ErrorResponse, 409: ErrorResponse },
  });
