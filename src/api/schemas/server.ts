/** The open routes (login, version, health, the spec), import errors and Leoflow's event stream. */
import { z } from "zod";
import * as authRoutes from "../auth";
import * as importErrorRoutes from "../import-errors";
import { requestSchema, describeRoute } from "../openapi-registry";
import { DateTime, ErrorResponse, collection, int, nstr } from "./common";

const LoginBody = requestSchema(authRoutes, "LoginBody");
const ImportErrorListQuery = requestSchema(importErrorRoutes, "ListQuery");

export const VersionInfo = z.looseObject({ version: z.string(), git_version: nstr.optional() });
const status = nstr.optional();
export const HealthInfo = z.looseObject({
  metadatabase: z.looseObject({ status }),
  scheduler: z.looseObject({ status, latest_scheduler_heartbeat: nstr.optional() }),
  triggerer: z.looseObject({ status, latest_triggerer_heartbeat: nstr.optional() }),
  dag_processor: z.looseObject({ status, latest_dag_processor_heartbeat: nstr.optional() }).nullable().optional(),
});
export const TokenResponse = z.looseObject({ access_token: z.string(), token_type: z.string() });
export const ImportErrorResponse = z.looseObject({
  import_error_id: int,
  timestamp: DateTime,
  filename: z.string(),
  bundle_name: nstr.optional(),
  stack_trace: z.string(),
});
/** An OpenAPI 3.1 document: checked for its top-level shape only. */
export const OpenApiDocument = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

const open = { auth: false } as const;
describeRoute({
  method: "POST",
  path: "/auth/token",
  summary: "Log in: a bearer token for a username and password (JSON or form)",
  tag: "Login",
  ...open,
  body: LoginBody,
  responses: { 201: TokenResponse, 401: ErrorResponse, 429: ErrorResponse },
});
describeRoute({
  method: "GET",
  path: "/api/v2/version",
  summary: "Server version",
  tag: "Version",
  ...open,
  responses: { 200: VersionInfo },
});
describeRoute({
  method: "GET",
  path: "/api/v2/monitor/health",
  summary: "Health of the database and scheduler",
  tag: "Monitor",
  ...open,
  responses: { 200: HealthInfo },
});
describeRoute({
  method: "GET",
  path: "/api/v2/openapi.json",
  summary: "This document",
  tag: "Leoflow",
  ...open,
  responses: { 200: OpenApiDocument },
});
describeRoute({
  method: "GET",
  path: "/metrics",
  summary: "Prometheus metrics (when the server exports them)",
  tag: "Monitor",
  ...open,
  responses: { 200: { contentType: "text/plain" } },
});
describeRoute({
  method: "GET",
  path: "/api/v2/importErrors",
  summary: "List import errors",
  tag: "ImportError",
  query: ImportErrorListQuery,
  responses: { 200: collection("import_errors", ImportErrorResponse) },
});
describeRoute({
  method: "GET",
  path: "/api/v2/leoflow/events",
  summary: "Leoflow: lifecycle events as Server-Sent Events",
  tag: "Leoflow",
  responses: { 200: { contentType: "text/event-stream" } },
});
