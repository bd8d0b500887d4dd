/** The HTTP API (hono): Airflow 3 REST API v2 compatible routes and user auth. */
export { createApi, API_PREFIX } from "./app";
export type { ApiDeps, ApiEnv, DagFilesHandle, SchedulerHandle } from "./deps";
export { ApiError, RequestValidationError } from "./errors";
export type { RequestIssue } from "./errors";
