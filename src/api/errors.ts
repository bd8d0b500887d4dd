/**
 * One error handler for the whole API, so every failure is JSON `{"detail": …}` with the status Airflow
 * uses: domain errors map to 404/409/400/413, request schema errors to 422 with FastAPI-style detail lists,
 * and anything unexpected to a logged 500 whose body reveals nothing internal.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { ConflictError, IllegalTransitionError, LeoflowError, NotFoundError, TooLargeError, ValidationError } from "../domain";
import type { Logger } from "../observability";
import { isStoreUnavailable } from "../store";

/** An HTTP error raised by a route, with Airflow's `detail`. */
export class ApiError extends LeoflowError {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly detail: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
  }
}

/** One FastAPI-style validation problem: where (`["body","conf"]`), what, and a machine-readable type. */
export interface RequestIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** A request whose body, query or path failed its schema (HTTP 422, like FastAPI). */
export class RequestValidationError extends LeoflowError {
  constructor(readonly issues: RequestIssue[]) {
    super(issues.map((i) => `${i.loc.join(".")}: ${i.msg}`).join("; "));
  }
}

export function zodIssuesToRequestIssues(where: "body" | "query" | "path", issues: z.core.$ZodIssue[]): RequestIssue[] {
  return issues.flatMap((i): RequestIssue[] => {
    const loc = [where, ...i.path.map((p) => (typeof p === "number" ? p : String(p)))];
    switch (i.code) {
      case "unrecognized_keys":
        return i.keys.map((k) => ({ loc: [...loc, k], msg: "Extra inputs are not permitted", type: "extra_forbidden" }));
      case "invalid_type":
        if (!("input" in i) || i.input === undefined) return [{ loc, msg: "Field required", type: "missing" }];
        return [{ loc, msg: i.message, type: `${i.expected}_type` }];
      case "too_small":
        return [{ loc, msg: i.message, type: "greater_than_equal" }];
      case "too_big":
        return [{ loc, msg: i.message, type: "less_than_equal" }];
      case "invalid_value":
        return [{ loc, msg: i.message, type: "enum" }];
      default:
        return [{ loc, msg: i.message, type: "value_error" }];
    }
  });
}

const json = (c: Context, status: ContentfulStatusCode, detail: unknown, headers: Record<string, string> = {}) =>
  c.json({ detail }, status, headers);

/** `app.onError` handler. */
export function handleError(logger: Logger) {
  return (err: Error, c: Context): Response => {
    if (err instanceof ApiError) return json(c, err.status, err.detail, err.headers);
    if (err instanceof RequestValidationError) return json(c, 422, err.issues);
    if (err instanceof NotFoundError) return json(c, 404, err.message);
    if (err instanceof ConflictError) return json(c, 409, err.message);
    if (err instanceof ValidationError) return json(c, 400, err.message);
    if (err instanceof TooLargeError) return json(c, 413, err.message);
    if (err instanceof IllegalTransitionError) return json(c, 409, err.message);
    if (err instanceof HTTPException) return json(c, err.status as ContentfulStatusCode, err.message || "HTTP error");
    // The database out of reach for a moment is not a bug to report: a 503 saying so, and when to try again.
    if (isStoreUnavailable(err)) {
      logger.warn("API request failed: the database is unreachable", { method: c.req.method, path: c.req.path, error: err });
      return json(c, 503, "Service Unavailable: the server cannot reach its database for now; retry in a few seconds", {
        "retry-after": "5",
      });
    }
    logger.error("unhandled API error", { method: c.req.method, path: c.req.path, error: err, stack: err.stack });
    return json(c, 500, "Internal Server Error: the server logged the cause; please report it if it persists");
  };
}

/** `app.notFound` handler: unknown paths answer like every other error. */
export function handleNotFound(c: Context): Response {
  return json(c, 404, `Not Found: no route for ${c.req.method} ${c.req.path}`);
}
