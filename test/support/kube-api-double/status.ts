/**
 * The API server's `Status` error bodies (metav1.Status), as client-go, client-node and kubectl read them:
 * `reason` says which error it is, `code` is the HTTP status, `details` names the object and, for 422
 * Invalid, lists each bad field as a cause.
 *
 * @example throw notFound("pods", "task-1") // 404 {"reason":"NotFound","message":"pods \"task-1\" not found"}
 */

export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[] };
  code: number;
}

/** An API error answered as a Status body; thrown anywhere in a handler. */
export class ApiStatusError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
}

function failure(code: number, reason: string, message: string, details?: Status["details"]): ApiStatusError {
  return new ApiStatusError({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

export const notFound = (resource: string, name: string, group = "") =>
  failure(404, "NotFound", `${resource}${group ? "." + group : ""} "${name}" not found`, {
    name,
    ...(group ? { group } : {}),
    kind: resource,
  });

export const alreadyExists = (resource: string, name: string, group = "") =>
  failure(409, "AlreadyExists", `${resource}${group ? "." + group : ""} "${name}" already exists`, {
    name,
    ...(group ? { group } : {}),
    kind: resource,
  });

export const conflict = (resource: string, name: string) =>
  failure(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    {
      name,
      kind: resource,
    },
  );

/** 422: `Pod "x" is invalid: spec.containers[0].image: Required value` (several causes are bracketed). */
export function invalid(kind: string, name: string, causes: StatusCause[], group = ""): ApiStatusError {
  const each = causes.map((c) => `${c.field}: ${c.message}`);
  const listed = each.length === 1 ? each[0] : `[${each.join(", ")}]`;
  return failure(422, "Invalid", `${kind} "${name}" is invalid: ${listed}`, { name, ...(group ? { group } : {}), kind, causes });
}

export const badRequest = (message: string) => failure(400, "BadRequest", message);
export const forbidden = (message: string, resource: string, name = "") => failure(403, "Forbidden", message, { name, kind: resource });
export const unauthorized = () => failure(401, "Unauthorized", "Unauthorized");
export const methodNotAllowed = (message: string) => failure(405, "MethodNotAllowed", message);
export const gone = (message: string) => failure(410, "Expired", message);
export const unsupportedMediaType = (type: string) =>
  failure(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json; got ${type}`,
  );

export function success(details: Status["details"]): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details, code: 200 };
}

/** A cause in the API server's words: "Required value", "Invalid value: \"x\": why", "Unsupported value"... */
export const cause = {
  required: (field: string, why = ""): StatusCause => ({
    reason: "FieldValueRequired",
    message: `Required value${why ? ": " + why : ""}`,
    field,
  }),
  invalid: (field: string, value: unknown, why: string): StatusCause => ({
    reason: "FieldValueInvalid",
    message: `Invalid value: ${JSON.stringify(value)}: ${why}`,
    field,
  }),
  notSupported: (field: string, value: unknown, allowed: string[]): StatusCause => ({
    reason: "FieldValueNotSupported",
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(", ")}`,
    field,
  }),
  duplicate: (field: string, value: unknown): StatusCause => ({
    reason: "FieldValueDuplicate",
    message: `Duplicate value: ${JSON.stringify(value)}`,
    field,
  }),
  notFound: (field: string, value: unknown): StatusCause => ({
    reason: "FieldValueNotFound",
    message: `Not found: ${JSON.stringify(value)}`,
    field,
  }),
  tooLong: (field: string, max: number): StatusCause => ({
    reason: "FieldValueTooLong",
    message: `Too long: must have at most ${max} bytes`,
    field,
  }),
  forbidden: (field: string, why: string): StatusCause => ({ reason: "FieldValueForbidden", message: `Forbidden: ${why}`, field }),
};
