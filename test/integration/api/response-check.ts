/**
 * Every response the API test harness sees is checked against its route's registered schema
 * (src/api/openapi-registry.ts): the status must be one the route declares and the JSON body must match
 * the schema for that status, else the test fails naming the request and the field. Each response
 * also goes to `responseLog` when set, for scripts/api-spec-check.ts to hold against Airflow's own spec.
 */
import type { z } from "zod";
import { matchRoute } from "../../../src/api/openapi-registry";
import { ErrorResponse } from "../../../src/api/schemas";
import "../../../src/api/schemas";

/** Requests whose route has no registered schemas (the OpenAPI coverage test names them). */
export const unregistered = new Set<string>();

export class ResponseSchemaError extends Error {}

/** Throws a ResponseSchemaError when `status`/`body` break the route's declared responses. */
export function checkResponseBody(method: string, path: string, status: number, contentType: string, text: string): void {
  const doc = matchRoute(method, path);
  if (!doc) {
    if (status !== 404 && status !== 405) unregistered.add(`${method} ${path.split("?")[0]}`);
    return;
  }
  const where = `${method} ${path} (route ${doc.method} ${doc.path})`;
  // A 500 is never declared (Airflow lists none); the tests that provoke one assert it, here only its shape.
  const responses = status === 500 ? { ...doc.responses, 500: ErrorResponse } : doc.responses;
  if (!(status in responses))
    throw new ResponseSchemaError(
      `${where} answered ${status}, a status the route does not declare (${Object.keys(doc.responses).join(", ")}): fix the route or add the status to its describeRoute in src/api/schemas/`,
    );
  const declared = responses[status];
  if (declared === null || declared === undefined) {
    if (text !== "") throw new ResponseSchemaError(`${where} answered ${status} with a body, but the route declares none`);
    return;
  }
  if ("contentType" in declared && typeof declared.contentType === "string") {
    if (!contentType.startsWith(declared.contentType))
      throw new ResponseSchemaError(`${where} answered ${status} as ${contentType}, declared ${declared.contentType}`);
    return;
  }
  if (!contentType.startsWith("application/json")) {
    if (status < 300 && doc.produces?.some((t) => contentType.startsWith(t))) return;
    throw new ResponseSchemaError(`${where} answered ${status} as '${contentType}', declared application/json`);
  }
  const r = (declared as z.ZodType).safeParse(JSON.parse(text));
  if (!r.success) {
    const fields = r.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
    throw new ResponseSchemaError(`${where} answered ${status} with a body that breaks its schema: ${fields}`);
  }
}

/** The fetch Response variant: reads a clone, so the caller can still read the body. */
export async function checkResponse(method: string, path: string, res: Response): Promise<void> {
  const text = await res.clone().text();
  // Bun gives a Response built from a bare string its text/plain type only on the wire, not in headers.
  const contentType = res.headers.get("content-type") ?? (text ? "text/plain;charset=utf-8" : "");
  record(method, path, matchRoute(method, path)?.path ?? null, res.status, contentType, text);
  checkResponseBody(method, path, res.status, contentType, text);
}

/** One response as the harness saw it. */
export interface RecordedResponse {
  method: string;
  path: string;
  /** The registered route it hit, or null. */
  route: string | null;
  status: number;
  contentType: string;
  body: unknown;
}

/** Where responses go besides the check: scripts/api-spec-record.ts sets it (as a `bun test --preload`). */
export const responseLog: { record: ((r: RecordedResponse) => void) | null } = { record: null };

function record(method: string, path: string, route: string | null, status: number, contentType: string, text: string) {
  if (!responseLog.record) return;
  let body: unknown = text;
  if (contentType.startsWith("application/json") && text) body = JSON.parse(text);
  responseLog.record({ method, path, route, status, contentType, body });
}
