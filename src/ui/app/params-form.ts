/**
 * The trigger form generated from a DAG's params (GET /dags/{id}/details: `{name: {value, description,
 * schema}}`): which input each param gets, turning what was typed into the conf value, and placing the
 * API's validation errors next to their field. Pure.
 */

export interface ParamSpec {
  value: unknown;
  description: string | null;
  schema: { type?: string; enum?: unknown[]; minimum?: number; maximum?: number; [k: string]: unknown };
}

export type FieldKind = "boolean" | "integer" | "number" | "enum" | "json" | "string" | "null";

export function fieldKind(p: ParamSpec): FieldKind {
  const t = p.schema.type;
  if (p.schema.enum?.length) return "enum";
  if (t === "boolean") return "boolean";
  if (t === "integer") return "integer";
  if (t === "number") return "number";
  if (t === "object" || t === "array") return "json";
  if (t === "null") return "null";
  if (t === undefined && p.value !== null && typeof p.value === "object") return "json";
  if (t === undefined && typeof p.value === "number") return Number.isInteger(p.value) ? "integer" : "number";
  if (t === undefined && typeof p.value === "boolean") return "boolean";
  return "string";
}

/** What the input shows at first: the default, as text (JSON for objects and arrays, enum choices by index). */
export function initialText(p: ParamSpec): string {
  const kind = fieldKind(p);
  if (kind === "enum") {
    const i = (p.schema.enum ?? []).findIndex((e) => JSON.stringify(e) === JSON.stringify(p.value));
    return i < 0 ? "" : String(i);
  }
  if (p.value === null || p.value === undefined) return "";
  if (kind === "json") return JSON.stringify(p.value, null, 2);
  return String(p.value);
}

export type Parsed = { ok: true; value: unknown; omit?: boolean } | { ok: false; error: string };

/** The conf value for what was typed; an empty optional field is left out (the param's default applies). */
export function parseField(p: ParamSpec, text: string, checked: boolean): Parsed {
  const kind = fieldKind(p);
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

/**
 * The API's trigger errors by param: a 400 `invalid conf: conf.a: msg; conf.b: msg` (src/scheduler/trigger.ts),
 * or a 422 list with `loc: ["body", "conf", "a"]`. What names no param comes back under "".
 */
export function errorsByParam(detail: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (key: string, msg: string) => (out[key] = out[key] ? `${out[key]}; ${msg}` : msg);
  if (typeof detail === "string") {
    const body = detail.replace(/^invalid conf:\s*/, "");
    if (body === detail) return { "": detail };
    for (const part of body.split(/;\s+(?=conf\.)/)) {
      const m = /^conf\.([^:]+):\s*(.*)$/s.exec(part);
      if (m?.[1] !== undefined && m[2] !== undefined) add(m[1], m[2]);
      else add("", part);
    }
    return out;
  }
  if (Array.isArray(detail)) {
    for (const d of detail) {
      const loc: unknown[] = Array.isArray(d?.loc) ? d.loc : [];
      const i = loc.indexOf("conf");
      const key = i >= 0 && typeof loc[i + 1] === "string" ? (loc[i + 1] as string) : "";
      add(key, key ? String(d?.msg) : `${loc.slice(1).join(".") || "request"}: ${String(d?.msg)}`);
    }
    return out;
  }
  return { "": JSON.stringify(detail) };
}
