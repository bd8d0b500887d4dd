/**
 * DAG params as Airflow's `Param`: each param is a JSON Schema (Draft 2020-12, as Airflow's jsonschema uses by
 * default, with its format checker) plus a `default` and a `description`. A value a DAG file writes bare
 * (`"limit": 10`) is the param `{ "default": 10 }`. Pure; the validator (ajv with ajv-formats, patterns by re2js)
 * is require()d the first time a schema is checked, so a server that is never triggered with params does not load it.
 *
 * Messages name what is wrong with the value itself (`expected integer, got string "x"`, `"ab" is shorter than
 * the minimum length 3`); callers put them under `conf.<name>` (a trigger) or `params.<name>` (an import error).
 */
import type { ErrorObject } from "ajv";
import type Ajv2020 from "ajv/dist/2020";

export const PARAM_TYPES = ["string", "integer", "number", "boolean", "object", "array", "null"] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

/** A param as stored in a DagSpec: its JSON Schema keywords, its default and description. */
export interface ParamSpec {
  type?: ParamType | ParamType[];
  default?: unknown;
  description?: string;
  [keyword: string]: unknown;
}

/** What a DAG file may write for a param: a schema object, or a bare value (its default). */
export type ParamInput = ParamSpec | string | number | boolean | null | unknown[];

/** A bare value is the param whose default it is; an object is a schema object. */
export function normalizeParam(raw: unknown): unknown {
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) return raw;
  return raw === undefined ? {} : { default: raw };
}

export function paramHasDefault(p: ParamSpec): boolean {
  return Object.hasOwn(p, "default");
}

/** A param with no default must be given in conf; one whose type is "null" has the only value it can. */
export function paramIsRequired(p: ParamSpec): boolean {
  return !paramHasDefault(p) && p.type !== "null";
}

/** The JSON Schema a param's value is checked against: the param without its default and description. */
function schemaOf(p: ParamSpec): Record<string, unknown> {
  const { default: _default, description: _description, ...schema } = p;
  return schema;
}

// ---- the validator ----------------------------------------------------------------------------------------

type Validate = ((value: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** Compiled validators by their schema's JSON; past this many a new engine starts (DAG versions come and go). */
const MAX_COMPILED = 500;
let engine: { ajv: Ajv2020; compiled: Map<string, Validate | { error: string }> } | undefined;

function getEngine(): NonNullable<typeof engine> {
  if (engine && engine.compiled.size < MAX_COMPILED) return engine;
  const { default: Ajv } = require("ajv/dist/2020") as typeof import("ajv/dist/2020");
  const { default: addFormats } = require("ajv-formats") as typeof import("ajv-formats");
  // strict: false — as jsonschema, unknown keywords (Airflow's title, section, values_display…) and unknown
  // formats (Airflow's "multiline") are ignored. verbose: each error carries the value it is about. regExp:
  // `pattern` runs on the server's thread at every trigger, so a DAG's pattern must not be able to stall it with a
  // crafted conf (native /^(a+)+$/ takes half a second on 29 characters, and doubles with each one more): RE2's
  // linear-time engine (re2js), which refuses what it cannot run in linear time (lookaround, backreferences).
  const ajv = new Ajv({
    strict: false,
    verbose: true,
    logger: false,
    validateSchema: false,
    allErrors: false,
    code: { regExp: linearRegExp() },
  });
  addFormats(ajv);
  engine = { ajv, compiled: new Map() };
  return engine;
}

function validatorOf(p: ParamSpec): Validate | { error: string } {
  const schema = schemaOf(p);
  const key = JSON.stringify(schema);
  const e = getEngine();
  let v = e.compiled.get(key);
  if (!v) {
    try {
      v = e.ajv.compile(schema) as Validate;
    } catch (err) {
      v = { error: (err as Error).message };
    }
    // The function keeps what it compiled; dropping the schema from ajv's own cache (kept by object, and by
    // $id) lets a later version of the DAG reuse an $id and keeps the cache to this map's.
    e.ajv.removeSchema(schema);
    e.compiled.set(key, v);
  }
  return v;
}

/**
 * Why a param's schema is not a valid JSON Schema (Draft 2020-12's meta-schema, then what compiling it finds:
 * a bad regular expression, an unresolvable $ref), or null.
 */
export function paramSchemaProblem(p: ParamSpec): string | null {
  const schema = schemaOf(p);
  // The meta-schema's validator is generated ahead of time (scripts/gen-json-schema-meta.ts): ajv compiling it here
  // cost the first DAG with params in every process 60–100 ms.
  const { default: meta } = require("../gen/json-schema-2020-12-meta.js") as typeof import("../gen/json-schema-2020-12-meta.js");
  try {
    if (!meta(schema)) return `not a valid JSON Schema: ${metaProblem(meta.errors ?? [])}`;
  } catch (err) {
    return `not a valid JSON Schema: ${(err as Error).message}`;
  }
  const v = validatorOf(p);
  return "error" in v ? `not a valid JSON Schema: ${v.error}` : null;
}

/** What is wrong with `value` as the param `name`, or null when its schema accepts it. */
export function paramValueProblem(name: string, p: ParamSpec, value: unknown): string | null {
  const v = validatorOf(p);
  if ("error" in v) return `the param's schema is not a valid JSON Schema: ${v.error}`;
  if (v(value)) return null;
  return describeErrors(name, v.errors ?? []);
}

// ---- messages ---------------------------------------------------------------------------------------------

function metaProblem(errors: ErrorObject[]): string {
  const e = errors[0];
  if (!e) return "refused by the meta-schema";
  const at = pointerPath(e.instancePath).replace(/^\./, "");
  return `${at || "the schema"} ${e.message ?? "is invalid"}`;
}

/** `/a/0/b~1c` → `.a[0]["b/c"]`. */
function pointerPath(pointer: string): string {
  if (!pointer) return "";
  return pointer
    .slice(1)
    .split("/")
    .map((seg) => seg.replaceAll("~1", "/").replaceAll("~0", "~"))
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : /^[A-Za-z_][\w-]*$/.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`))
    .join("");
}

const SHOWN_MAX = 100;

function show(v: unknown): string {
  const s = v === undefined ? "undefined" : JSON.stringify(v);
  return s.length <= SHOWN_MAX ? s : `${s.slice(0, SHOWN_MAX)}…`;
}

export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function describeErrors(name: string, errors: ErrorObject[]): string {
  // ajv lists an alternative's own errors before the anyOf/oneOf/if that failed: the last one is the failure.
  let i = errors.length - 1;
  while (i > 0 && errors[i]!.keyword === "if") i--;
  const e = errors[i];
  if (!e) return "refused by the param's schema";
  const branches = errors.slice(0, i).filter((b) => b.schemaPath.startsWith(`${e.schemaPath}/`));
  const at = e.instancePath ? `in ${name}${pointerPath(e.instancePath)}: ` : "";
  return at + describeError(e, branches);
}

function describeError(e: ErrorObject, branches: ErrorObject[]): string {
  const v: unknown = e.data;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "type": {
      const t = (e.parentSchema as { type?: unknown } | undefined)?.type ?? p.type;
      return `expected ${[t].flat().join(" or ")}, got ${describeType(v)} ${show(v)}`;
    }
    case "enum":
      return `${show(v)} is not one of ${((p.allowedValues as unknown[]) ?? []).map(show).join(", ")}`;
    case "const":
      return `${show(v)} is not ${show(p.allowedValue)}`;
    case "minimum":
      return `${show(v)} is less than the minimum ${p.limit}`;
    case "maximum":
      return `${show(v)} is greater than the maximum ${p.limit}`;
    case "exclusiveMinimum":
      return `${show(v)} is not greater than the exclusive minimum ${p.limit}`;
    case "exclusiveMaximum":
      return `${show(v)} is not less than the exclusive maximum ${p.limit}`;
    case "multipleOf":
      return `${show(v)} is not a multiple of ${p.multipleOf}`;
    case "minLength":
      return `${show(v)} is shorter than the minimum length ${p.limit}`;
    case "maxLength":
      return `${show(v)} is longer than the maximum length ${p.limit}`;
    case "pattern":
      return `${show(v)} does not match the pattern ${p.pattern}`;
    case "format":
      return `${show(v)} is not a valid ${p.format}`;
    case "minItems":
      return `has ${(v as unknown[]).length} items, fewer than the minimum ${p.limit}`;
    case "maxItems":
      return `has ${(v as unknown[]).length} items, more than the maximum ${p.limit}`;
    case "uniqueItems":
      return `items [${p.j}] and [${p.i}] are equal, and the items must be unique`;
    case "minProperties":
      return `has ${Object.keys(v as object).length} fields, fewer than the minimum ${p.limit}`;
    case "maxProperties":
      return `has ${Object.keys(v as object).length} fields, more than the maximum ${p.limit}`;
    case "required":
      return `the field "${p.missingProperty}" is required`;
    case "dependentRequired":
    case "dependencies":
      return `the field "${p.property}" requires the field "${p.missingProperty}"`;
    case "additionalProperties":
      return `the field "${p.additionalProperty}" is not allowed`;
    case "unevaluatedProperties":
      return `the field "${p.unevaluatedProperty}" is not allowed`;
    case "not":
      return `${show(v)} matches the schema it must not match ("not")`;
    case "anyOf":
    case "oneOf": {
      if (e.keyword === "oneOf" && Array.isArray(p.passingSchemas))
        return `${show(v)} matches more than one of the oneOf schemas (${p.passingSchemas.join(" and ")})`;
      const why = [...new Set(branches.filter((b) => !["anyOf", "oneOf", "if"].includes(b.keyword)).map((b) => describeError(b, [])))];
      return `${show(v)} matches none of the ${e.keyword} schemas${why.length ? ` (${why.join("; ")})` : ""}`;
    }
    default:
      return `${show(v)} ${e.message ?? `fails the ${e.keyword} keyword`}`;
  }
}

/** ajv's RegExp engine over RE2 (re2js): `test` finds the pattern anywhere in the string, as RegExp#test does. */
function linearRegExp() {
  const { RE2JS } = require("re2js") as typeof import("re2js");
  const engine = (pattern: string) => {
    const re = RE2JS.compile(pattern);
    // ajv shares one compiled pattern per toString() in a validator's scope: each says its own pattern.
    return { test: (s: string) => re.matcher(s).find(), toString: () => `re2:${pattern}` };
  };
  // What ajv's standalone code would require to build the same engine (unused: validators are compiled here).
  return Object.assign(engine, { code: 'require("re2js").RE2JS' });
}
