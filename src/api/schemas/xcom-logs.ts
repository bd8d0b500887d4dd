/** XComResponse / XComResponseNative, TaskInstancesLogResponse and their routes. */
import { z } from "zod";
import * as logRoutes from "../logs";
import { requestSchema, describeRoute } from "../openapi-registry";
import * as xcomRoutes from "../xcom";
import { DateTime, ErrorResponse, NullableDateTime, collection, int, nstr } from "./common";

const LogsQuery = requestSchema(logRoutes, "LogsQuery");
const GetXComQuery = requestSchema(xcomRoutes, "GetXComQuery");
const ListXComQuery = requestSchema(xcomRoutes, "ListXComQuery");

export const XComResponse = z.looseObject({
  key: z.string(),
  timestamp: DateTime,
  logical_date: NullableDateTime.optional(),
  run_after: DateTime,
  map_index: int,
  task_id: z.string(),
  dag_id: z.string(),
  run_id: z.string(),
  dag_display_name: z.string(),
  task_display_name: z.string(),
});
export const XComResponseNative = XComResponse.extend({ value: z.unknown() });
export const XComCollection = collection("xcom_entries", XComResponse);

/** StructuredLogMessage plus Leoflow's `stream` (stdout/stderr). */
export const LogLine = z.looseObject({ timestamp: DateTime.optional(), event: z.string(), stream: z.string().optional() });
export const TaskInstancesLogResponse = z.looseObject({
  content: z.union([z.array(LogLine), z.array(z.string())]),
  continuation_token: nstr.optional(),
});

const ti = { dag_id: z.string(), dag_run_id: z.string(), task_id: z.string() };
const TI = "/api/v2/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id";
describeRoute({
  method: "GET",
  path: `${TI}/xcomEntries`,
  summary: "List XCom entries (`~` for every task)",
  tag: "XCom",
  params: ti,
  query: ListXComQuery,
  responses: { 200: XComCollection, 404: ErrorResponse },
});
describeRoute({
  method: "GET",
  path: `${TI}/xcomEntries/:xcom_key`,
  summary: "Get an XCom entry with its value",
  tag: "XCom",
  params: { ...ti, xcom_key: z.string() },
  query: GetXComQuery,
  responses: { 200: XComResponseNative, 404: ErrorResponse },
});
describeRoute({
  method: "GET",
  path: `${TI}/logs/:try_number`,
  summary: "Read a try's log (JSON; `Accept: text/plain` or `application/x-ndjson` for lines)",
  tag: "TaskInstance",
  params: { ...ti, try_number: z.number().int() },
  query: LogsQuery,
  responses: { 200: TaskInstancesLogResponse, 404: ErrorResponse },
  produces: ["text/plain", "application/x-ndjson"],
});
