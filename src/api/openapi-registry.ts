/**
 * The one list of what each API route accepts and answers, registered with one `describeRoute` call per
 * route (in src/api/schemas/<resource>.ts, next to its response shapes). It feeds GET /api/v2/openapi.json
 * and the API test harness, which checks every response body against the schema for its status.
 *
 * @example
 * describeRoute({ method: "GET", path: "/api/v2/pools/:pool_name", summary: "Get a pool", tag: "Pool",
 *   params: { pool_name: z.string() }, responses: { 200: PoolResponse, 404: ErrorResponse } });
 */
import type { z } from "zod";
import { ErrorResponse, ValidationErrorResponse } from "./schemas/common";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** What a status answers: a JSON schema, `null` for no body (204), or a non-JSON content type. */
export type ResponseDoc = z.ZodType | null | { contentType: string; json?: z.ZodType };

export interface RouteDoc {
  method: HttpMethod;
  /** Full path in hono's form (`/api/v2/dags/:dag_id`). */
  path: string;
  summary: string;
  /** The resource, as Airflow tags its operations ("DAG", "Pool", …). */
  tag: string;
  /** false: open without a token (version, health, login, the spec itself). */
  auth?: boolean;
  params?: Record<string, z.ZodType>;
  query?: z.ZodType;
  body?: z.ZodType;
  responses: Record<number, ResponseDoc>;
  /** Other content types a 2xx may answer with when the client asks (`Accept: text/plain`). */
  produces?: string[];
}

const routes = new Map<string, RouteDoc>();

/**
 * Statuses every route can answer besides its own: bad JSON (400), too large (413), bad fields (422), and for
 * guarded routes no token (401), no right (403) or a team the caller may not act in (404, `Team "x" not found`).
 */
function defaultErrors(doc: RouteDoc): Record<number, ResponseDoc> {
  const errs: Record<number, ResponseDoc> = { 400: ErrorResponse, 413: ErrorResponse, 422: ValidationErrorResponse };
  if (doc.auth !== false) Object.assign(errs, { 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse });
  return errs;
}

/** Registers a route's request and response schemas (replacing an earlier entry for the same method+path). */
export function describeRoute(doc: RouteDoc): void {
  routes.set(`${doc.method} ${doc.path}`, { ...doc, responses: { ...defaultErrors(doc), ...doc.responses } });
}

export function routeDocs(): RouteDoc[] {
  return [...routes.values()];
}

export function routeDoc(method: string, path: string): RouteDoc | undefined {
  return routes.get(`${method.toUpperCase()} ${path}`);
}

/** The registered route a concrete request path hits (`/api/v2/dags/etl` → `/api/v2/dags/:dag_id`); literal segments win over params. */
export function matchRoute(method: string, concretePath: string): RouteDoc | undefined {
  const want = concretePath.split("?")[0]!.split("/");
  let best: { doc: RouteDoc; score: number } | undefined;
  for (const doc of routes.values()) {
    if (doc.method !== method.toUpperCase()) continue;
    const segs = doc.path.split("/");
    if (segs.length !== want.length) continue;
    let score = 0;
    let ok = true;
    for (let i = 0; i < segs.length && ok; i++) {
      if (segs[i]!.startsWith(":")) ok = want[i] !== "";
      else if (segs[i] === want[i]) score++;
      else ok = false;
    }
    if (ok && (!best || score > best.score)) best = { doc, score };
  }
  return best?.doc;
}

/** hono's `:param` (or `:param{regex}`) path → OpenAPI's `{param}`. */
export const openApiPath = (path: string) => path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}");

/**
 * A request schema a route module exports, looked up by name: the route files change often, and a renamed
 * schema must leave its route undocumented (the OpenAPI test shows it), never break the server's import.
 */
export function requestSchema(routeModule: object, name: string): z.ZodType | undefined {
  const s = (routeModule as Record<string, unknown>)[name];
  return s && typeof s === "object" && "safeParse" in s ? (s as z.ZodType) : undefined;
}
