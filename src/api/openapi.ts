/**
 * GET /api/v2/openapi.json: Leoflow's own OpenAPI 3.1 document, generated from the route registry
 * (src/api/openapi-registry.ts) with zod's JSON Schema output, so it says what the server validates.
 * Open without a token, like Airflow's /openapi.json.
 */
import { z } from "zod";
import { openApiPath, type ResponseDoc, type RouteDoc, routeDocs } from "./openapi-registry";
import "./schemas";

type Json = Record<string, unknown>;

/** zod → JSON Schema 2020-12 (what OpenAPI 3.1 uses); transforms and coercions show their input side. */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Json;
  return rest;
}

function parameters(doc: RouteDoc): Json[] {
  const out: Json[] = Object.entries(doc.params ?? {}).map(([name, s]) => ({
    name,
    in: "path",
    required: true,
    schema: jsonSchema(s, "input"),
  }));
  if (doc.query) {
    const q = jsonSchema(doc.query, "input") as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(q.properties ?? {}))
      out.push({ name, in: "query", required: q.required?.includes(name) ?? false, schema });
  }
  return out;
}

function response(status: number, r: ResponseDoc): Json {
  const description = status < 300 ? "Successful Response" : status === 422 ? "Validation Error" : "Error";
  if (r === null) return { description };
  if ("contentType" in r && typeof r.contentType === "string")
    return { description, content: { [r.contentType]: { schema: r.json ? jsonSchema(r.json, "output") : { type: "string" } } } };
  return { description, content: { "application/json": { schema: jsonSchema(r as z.ZodType, "output") } } };
}

export function buildOpenApiDocument(version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const doc of routeDocs().sort((a, b) => a.path.localeCompare(b.path))) {
    const op: Json = {
      tags: [doc.tag],
      summary: doc.summary,
      operationId: `${doc.method.toLowerCase()}_${doc.path.replace(/^\/api\/v2\//, "").replace(/[/:~.]+/g, "_")}`,
      parameters: parameters(doc),
      responses: Object.fromEntries(Object.entries(doc.responses).map(([s, r]) => [s, response(Number(s), r)])),
    };
    // The other types a success answers with when asked (`Accept: text/plain`): plain text.
    for (const [s, r] of Object.entries(op.responses as Record<string, Json>))
      if (Number(s) < 300 && r.content) for (const t of doc.produces ?? []) (r.content as Json)[t] = { schema: { type: "string" } };
    if (doc.body) op.requestBody = { required: true, content: { "application/json": { schema: jsonSchema(doc.body, "input") } } };
    if (doc.auth !== false) op.security = [{ HTTPBearer: [] }];
    (paths[openApiPath(doc.path)] ??= {})[doc.method.toLowerCase()] = op;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Leoflow API",
      version,
      description:
        "Airflow 3's REST API v2 as Leoflow serves it, plus Leoflow's own routes under /api/v2/leoflow/. Get a token with POST /auth/token and send it as `Authorization: Bearer <token>`.",
    },
    components: { securitySchemes: { HTTPBearer: { type: "http", scheme: "bearer" } } },
    paths,
  };
}
