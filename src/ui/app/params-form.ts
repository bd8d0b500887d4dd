/**
 * The trigger form generated from a DAG's params (GET /dags/{id}/details: `{name: {value, description,
 * schema}}`): which input each param gets, turning what was typed into the conf value, and placing the
 * API's validation errors next to their field. Pure.
 */

export interface ParamSpec {
  value: unknown;
  description: string | null;
  /** The param's JSON Schema; `type` may be a list (`["null", "string"]`: Airflow's optional param). */
  schema: { type?: string | string[]; enum?: unknown[]; minimum?: number; maximum?: number; [k: string]: unknown };
}

export type FieldKind = "boolean" | "integer" | "number" | "enum" | "json" | "string" | "null";

/** The param's types, `type` as a list: empty when it names none. */
function typesOf(p: ParamSpec): string[] {
  const t = p.schema.type;
  return t === undefined ? [] : Array.isArray(t) ? t.map(String) : [String(t)];
}

/** A param that takes null besides another type (`["null", "string"]`): its empty input sends null, as Airflow's form does. */
export function isNullable(p: ParamSpec): boolean {
  const types = typesOf(p);
  return types.includes("null") && types.length > 1;
}

/** The hint under the input: `type integer`, `type null or string`. */
export function typeHint(p: ParamSpec): string | null {
  const types = typesOf(p);
  return types.length ? `type ${types.join(" or ")}` : null;
}

export function fieldKind(p: ParamSpec): FieldKind {
  if (p.schema.enum?.length) return "enum";
  const all = typesOf(p);
  const types = all.filter((x) => x !== "null");
  if (all.length && !types.length) return "null";
  // Several types (["string", "integer"]): the value is typed as JSON.
  if (types.length > 1) return "json";
  const t = types[0];
  if (t === "boolean") return "boolean";
  if (t === "integer") return "integer";
  if (t === "number") return "number";
  if (t === "object" || t === "array") return "json";
  if (t === undefined && p.value !== null && typeof p.value === "object") return "json";
  if (t === undefined && typeof p.value === "number") return Number.isInteger(p.value) ? "integer" : "number";
  if (t === undefined && typeof p.value === "boolean") return "boolean";
  return "string";
}

/** What the input shows at first: the default, as text (JSON for objects and arrays, enum choices by index). */
export const initialText = (p: ParamSpec): string => textOf(p, p.value);

/** What the param's input shows for `value` (the default, or a value from the conf JSON). */
export function textOf(p: ParamSpec, value: unknown): string {
  const kind = fieldKind(p);
  if (kind === "enum") {
    const i = (p.schema.enum ?? []).findIndex((e) => JSON.stringify(e) === JSON.stringify(value));
    return i < 0 ? "" : String(i);
  }
  if (value === null || value === undefined) return "";
  if (kind === "json") return JSON.stringify(value, null, 2);
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** The trigger's conf from its JSON box: an object, or what is wrong with the text. */
export function parseConf(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  let v: unknown;
  try {
    v = text.trim() === "" ? {} : JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not valid JSON: ${(e as Error).message}` };
  }
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? { ok: true, value: v as Record<string, unknown> }
    : { ok: false, error: "the conf must be a JSON object ({…})" };
}

export type Parsed = { ok: true; value: unknown; omit?: boolean } | { ok: false; error: string };

/** The conf value for what was typed; an empty optional field is left out (the param's default applies). */
export function parseField(p: ParamSpec, text: string, checked: boolean): Parsed {
  const kind = fieldKind(p);
  if (isNullable(p) && kind !== "boolean" && kind !== "enum" && text.trim() === "") return { ok: true, value: null };
  switch (kind) {
    case "boolean":
      return { ok: true, value: checked };
    case "null":
      return { ok: true, value: null };
    case "enum": {
      if (text === "") return { ok: true, value: undefined, omit: true };
      return { ok: true, value: (p.schema.enum ?? [])[Number(text)] };
    }
    case "integer":
    case "number": {
      if (text.trim() === "") return { ok: true, value: undefined, omit: true };
      const n = Number(text);
      if (!Number.isFinite(n)) return { ok: false, error: `"${text}" is not a number` };
      if (kind === "integer" && !Number.isInteger(n)) return { ok: false, error: `${text} is not a whole number` };
      return { ok: true, value: n };
    }
    case "json": {
      if (text.trim() === "") return { ok: true, value: undefined, omit: true };
      try {
        return { ok: true, value: JSON.parse(text) };
      } catch (e) {
        return { ok: false, error: `not valid JSON: ${(e as Error).message}` };
      }
    }
    default:
      return text === "" && p.value == null ? { ok: true, value: undefined, omit: true } : { ok: true, value: text };
  }
}

/** The trigger form's fields outside the params, by the request body's name for them. */
const BODY_FIELDS: Record<string, string> = { dag_run_id: "run_id", logical_date: "logical_date", note: "note", conf: "conf" };

/**
 * The API's trigger errors by field of the trigger form: a param's name, `conf` (the JSON box: a conf key that is
 * no param, or the conf as a whole), `run_id`, `logical_date`, `note`, or "" for the form. They come as a 400
 * `invalid conf: conf.a: msg; conf.b: msg` (src/scheduler/trigger.ts), a 422 list of `{loc: ["body", field, …], msg}`,
 * or a 409 "dag run … already exists": the run id's when one was given, else the logical date's (the id comes from it).
 */
export function triggerErrors(detail: unknown, params: string[], sent: { runId: boolean; logicalDate: boolean }): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (key: string, msg: string) => (out[key] = out[key] ? `${out[key]}; ${msg}` : msg);
  const place = (key: string, msg: string) => (!key || params.includes(key) ? add(key, msg) : add("conf", `${key}: ${msg}`));
  if (Array.isArray(detail)) {
    for (const d of detail) {
      const loc: unknown[] = Array.isArray(d?.loc) ? d.loc : [];
      const i = loc.indexOf("conf");
      const field = BODY_FIELDS[String(loc[1])];
      if (i >= 0 && typeof loc[i + 1] === "string") place(loc[i + 1] as string, String(d?.msg));
      else if (field) add(field, String(d?.msg));
      else add("", `${loc.slice(1).join(".") || "request"}: ${String(d?.msg)}`);
    }
    return out;
  }
  if (typeof detail !== "string") return { "": JSON.stringify(detail) };
  if (detail.startsWith("invalid conf:"))
    for (const part of detail.replace(/^invalid conf:\s*/, "").split(/;\s+(?=conf\.)/)) {
      const m = /^conf\.([^:]+):\s*(.*)$/s.exec(part);
      if (m) place(m[1] as string, m[2] as string);
      else add("conf", part);
    }
  else if (/^dag run .* already exists/.test(detail) && (sent.runId || sent.logicalDate))
    add(sent.runId ? "run_id" : "logical_date", detail);
  else if (/(^|at )conf\b/.test(detail)) add("conf", detail);
  else add("", detail);
  return out;
}
