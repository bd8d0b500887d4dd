/**
 * Request parsing with zod: body, query and path values either match their schema or raise a
 * RequestValidationError (422) naming each bad field, so a route never sees malformed input. Before the
 * schema, every JSON body passes `findJsonProblem` (src/domain/json-safety.ts): nesting deeper than 64
 * levels, U+0000 or a lone surrogate anywhere is a 400 naming where, the same on SQLite and Postgres.
 * The schemas here and in the route files are `lazySchema`s: each is built by the first request that uses
 * it, so a server start builds none (src/domain/lazy-schema.ts).
 */
import type { Context } from "hono";
import { z } from "zod";
import { ValidationError, findJsonProblem, errorMessage, lazySchema } from "../domain";
import { RequestValidationError, zodIssuesToRequestIssues } from "./errors";

const PARSE = { reportInput: true } as const;

/** Reads the JSON body and validates it. A missing or non-JSON body is a 422 like FastAPI's. */
export async function parseBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  if (!text.trim()) throw new RequestValidationError([{ loc: ["body"], msg: "Field required: send a JSON body", type: "missing" }]);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new RequestValidationError([{ loc: ["body"], msg: `JSON decode error: ${errorMessage(e)}`, type: "json_invalid" }]);
  }
  assertStorableBody(raw);
  const r = schema.safeParse(raw, PARSE);
  if (!r.success) throw new RequestValidationError(zodIssuesToRequestIssues("body", r.error.issues));
  return r.data;
}

/**
 * A 400 (ValidationError) when a parsed body nests too deep or holds text no store can keep. The body
 * object is an envelope: each field counts its own depth, so a 64-deep conf is accepted, 65 is not.
 */
export function assertStorableBody(raw: unknown): void {
  const p = findJsonProblem(raw, { envelope: true }) ?? jsonTextProblem(raw);
  if (p) throw new ValidationError(p.message, [{ path: p.path, message: p.message }]);
}

/**
 * Airflow bodies carry JSON inside a string in one field, a connection's `extra`; the server parses it
 * (to mask secrets on every read), so its depth is held to the same limit. Its text is stored as sent.
 */
const JSON_TEXT_FIELDS = ["extra"];

function jsonTextProblem(raw: unknown) {
  if (raw === null || typeof raw !== "object") return null;
  for (const field of JSON_TEXT_FIELDS) {
    const text = (raw as Record<string, unknown>)[field];
    if (typeof text !== "string" || !/^\s*[[{]/.test(text)) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      continue; // not JSON: the route's schema says what it expects
    }
    const p = findJsonProblem(parsed, { root: [field], depthOnly: true });
    if (p) return p;
  }
  return null;
}

/** Validates query parameters; keys in `arrayKeys` keep every repeated value (`?state=a&state=b`). */
export function parseQuery<S extends z.ZodType>(c: Context, schema: S, arrayKeys: string[] = []): z.output<S> {
  const all = c.req.queries();
  const raw: Record<string, string | string[]> = {};
  for (const [k, values] of Object.entries(all)) raw[k] = arrayKeys.includes(k) ? values : values[values.length - 1]!;
  const r = schema.safeParse(raw, PARSE);
  if (!r.success) throw new RequestValidationError(zodIssuesToRequestIssues("query", r.error.issues));
  return r.data;
}

/** Validates one path parameter (e.g. try_number must be an integer). */
export function parsePathParam<S extends z.ZodType>(name: string, value: string, schema: S): z.output<S> {
  const r = schema.safeParse(value, PARSE);
  if (!r.success)
    throw new RequestValidationError(r.error.issues.map((i) => ({ loc: ["path", name], msg: i.message, type: "value_error" })));
  return r.data;
}

// --- shared query pieces ---------------------------------------------------------------------------------

export const MAX_PAGE_LIMIT = 1000;

/** A page's `limit`: a whole number ≥ 0, `fallback` when absent, and cut to `max` (not refused) when above it. */
const WHOLE = "Input should be a whole number of 0 or more";
export const pageLimit = (fallback: number, max: number) =>
  z.coerce
    .number({ error: WHOLE })
    .int(WHOLE)
    .min(0, WHOLE)
    .default(fallback)
    .transform((n) => Math.min(n, max));

/** Airflow's paging: limit (default 50, capped at 1000) and offset. */
export const pagingQuery = lazySchema(() => ({
  limit: pageLimit(50, MAX_PAGE_LIMIT),
  offset: z.coerce.number({ error: WHOLE }).int(WHOLE).min(0, WHOLE).default(0),
  order_by: z.string().min(1).optional(),
}));

/** A query boolean: true/false (also 1/0, yes/no), like FastAPI. */
export const queryBool = lazySchema(() =>
  z
    .enum(["true", "false", "1", "0", "yes", "no", "True", "False"], { error: "Input should be a valid boolean (true or false)" })
    .transform((v) => ["true", "1", "yes", "True"].includes(v)),
);

/** An ISO 8601 date-time; one without an offset is taken as UTC (never as the server's local time). */
export const isoDateTime = lazySchema(() =>
  z
    .string()
    .regex(
      /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/,
      "Input should be a valid ISO 8601 datetime, e.g. 2026-01-01T00:00:00Z",
    )
    .transform((s, ctx) => {
      const hasTime = /[T ]/.test(s);
      const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(s.slice(10));
      const d = new Date(hasTime ? (hasZone ? s.replace(" ", "T") : `${s.replace(" ", "T")}Z`) : `${s}T00:00:00Z`);
      if (Number.isNaN(d.getTime()) || !isRealDay(s.slice(0, 10))) {
        ctx.addIssue({ code: "custom", message: `Input should be a valid datetime: ${s} is not a real date` });
        return z.NEVER;
      }
      return d;
    }),
);

/** JS Dates roll 2026-02-30 over into March; a request with such a date is a mistake, not a wish. */
function isRealDay(ymd: string): boolean {
  const [y, m, d] = ymd.split("-").map(Number) as [number, number, number];
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999, so 0001-01-01 was "not a real date".
  const t = new Date(0);
  t.setUTCFullYear(y, m - 1, d);
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/**
 * Translates an API `order_by` (Airflow field names, `-` for descending) to the record field the store
 * sorts by; unknown names pass through and the store rejects them with the allowed list (400).
 */
export function mapOrderBy(orderBy: string | undefined, aliases: Record<string, string>): string | undefined {
  if (!orderBy) return undefined;
  const desc = orderBy.startsWith("-");
  const field = desc ? orderBy.slice(1) : orderBy;
  return `${desc ? "-" : ""}${aliases[field] ?? field}`;
}
