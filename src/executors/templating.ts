/**
 * Templates of inline http tasks (pure): `{{ params.x }}`, `{{ conf.x }}`, `{{ logical_date }}`, `{{ ds }}`,
 * `{{ ts }}`, `{{ run_id }}`, `{{ dag_id }}`, `{{ task_id }}`, `{{ try_number }}`, `{{ xcom.<task_id>[.path] }}`
 * and `{{ var.<key>[.path] }}` in the URL, headers, query and body. A JSON body's string that is one whole
 * template keeps the value's JSON type; anywhere else a value is inserted as text (objects as JSON).
 * An unknown reference fails with a TemplateError naming the template, where it is, and what exists.
 *
 * Variables and XComs are loaded by the caller first (`templateRefs` says which), so rendering stays pure.
 */
import { LeoflowError, type HttpRequestSpec } from "../domain";

/** Values a template can see. `xcom` is task_id → return_value; `var` is key → value (a string). */
export interface TemplateContext {
  dag_id: string;
  run_id: string;
  task_id: string;
  try_number: number;
  logical_date: Date | null;
  params: Record<string, unknown>;
  conf: Record<string, unknown>;
  xcom: Record<string, unknown>;
  var: Record<string, string>;
}

export class TemplateError extends LeoflowError {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

const TEMPLATE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE = /^\{\{\s*([^{}]*?)\s*\}\}$/;
const SCALARS = ["dag_id", "run_id", "task_id", "try_number", "logical_date", "ds", "ts"] as const;
const HELP = `use ${SCALARS.join(", ")}, params.<name>, conf.<name>, xcom.<task_id>[.<path>] or var.<key>[.<path>]`;

/** One `{{ … }}` reference: its namespace and dotted path, as written. */
export interface TemplateRef {
  expr: string;
  ns: string;
  path: string[];
}

const parseRef = (expr: string): TemplateRef => {
  const [ns = "", ...path] = expr.split(".");
  return { expr, ns, path };
};

/** Every template reference in the templated fields of a request (url, headers, query, body, json). */
export function templateRefs(http: HttpRequestSpec): TemplateRef[] {
  const refs: TemplateRef[] = [];
  const scan = (v: unknown): void => {
    if (typeof v === "string") for (const m of v.matchAll(TEMPLATE)) refs.push(parseRef(m[1]!));
    else if (Array.isArray(v)) v.forEach(scan);
    else if (v && typeof v === "object") Object.values(v).forEach(scan);
  };
  scan([http.url, http.headers, http.query, http.body, http.json]);
  return refs;
}

/**
 * The keys a reference may name, longest first: task ids and variable keys may contain dots, so
 * `xcom.a.b.c` is tried as task `a.b.c`, then `a.b` (path c), then `a` (path b.c).
 */
export function candidateKeys(path: string[]): { key: string; rest: string[] }[] {
  const out: { key: string; rest: string[] }[] = [];
  for (let i = path.length; i >= 1; i--) out.push({ key: path.slice(0, i).join("."), rest: path.slice(i) });
  return out;
}

/** Evaluates one expression (the text between the braces) to its value. */
export function evaluate(expr: string, ctx: TemplateContext, where: string): unknown {
  const ref = parseRef(expr);
  const fail = (why: string) => new TemplateError(`template {{ ${expr} }} in ${where}: ${why}`);
  if (!expr) throw fail(`empty template; ${HELP}`);
  switch (ref.ns) {
    case "dag_id":
    case "run_id":
    case "task_id":
    case "try_number":
      if (ref.path.length) throw fail(`${ref.ns} has no fields`);
      return ctx[ref.ns];
    case "logical_date":
    case "ds":
    case "ts": {
      if (ref.path.length) throw fail(`${ref.ns} has no fields`);
      if (!ctx.logical_date) throw fail("this run has no logical_date (it was triggered without one)");
      const iso = ctx.logical_date.toISOString();
      return ref.ns === "ds" ? iso.slice(0, 10) : ref.ns === "ts" ? iso.replace(/\.\d{3}Z$/, "+00:00") : iso;
    }
    case "params":
    case "conf": {
      const [name, ...rest] = ref.path;
      if (!name) throw fail(`name the ${ref.ns} field, e.g. {{ ${ref.ns}.limit }}`);
      const bag = ref.ns === "params" ? ctx.params : ctx.conf;
      if (!Object.hasOwn(bag, name))
        throw fail(`no ${ref.ns === "params" ? "param" : "conf key"} "${name}" (known: ${Object.keys(bag).join(", ") || "none"})`);
      return dig(bag[name], rest, `${ref.ns}.${name}`, fail);
    }
    case "xcom":
    case "var": {
      if (!ref.path.length)
        throw fail(ref.ns === "xcom" ? "name the task, e.g. {{ xcom.extract }}" : "name the variable, e.g. {{ var.api_url }}");
      const bag = ref.ns === "xcom" ? ctx.xcom : ctx.var;
      const hit = candidateKeys(ref.path).find((c) => Object.hasOwn(bag, c.key));
      if (!hit)
        throw fail(
          ref.ns === "xcom"
            ? `task "${ref.path[0]}" has no return_value XCom in this run (is it an upstream that succeeded and returned something?)`
            : `variable "${ref.path.join(".")}" does not exist; create it with POST /api/v2/variables`,
        );
      let value: unknown = bag[hit.key];
      // A variable is text; a path into it reads it as JSON (Airflow's var.json.<key>.<path>).
      if (ref.ns === "var" && hit.rest.length) {
        try {
          value = JSON.parse(value as string);
        } catch {
          throw fail(`variable "${hit.key}" is not JSON, so it has no field "${hit.rest[0]}"`);
        }
      }
      return dig(value, hit.rest, `${ref.ns}.${hit.key}`, fail);
    }
    default:
      throw fail(`unknown reference "${ref.ns}"; ${HELP}`);
  }
}

function dig(value: unknown, path: string[], name: string, fail: (why: string) => TemplateError): unknown {
  let cur = value;
  let at = name;
  for (const p of path) {
    if (Array.isArray(cur) && /^\d+$/.test(p) && Number(p) < cur.length) cur = cur[Number(p)];
    else if (cur && typeof cur === "object" && !Array.isArray(cur) && Object.hasOwn(cur, p)) cur = (cur as Record<string, unknown>)[p];
    else {
      const has = Array.isArray(cur)
        ? `it is a list of ${cur.length}`
        : cur && typeof cur === "object"
          ? `fields: ${Object.keys(cur).join(", ") || "none"}`
          : `it is ${cur === null ? "null" : typeof cur}`;
      throw fail(`${at} has no field "${p}" (${has})`);
    }
    at += `.${p}`;
  }
  return cur;
}

const asText = (v: unknown): string => (typeof v === "string" ? v : v === undefined ? "" : JSON.stringify(v));

/**
 * Renders every `{{ … }}` of a string as text.
 *
 * @example renderString("/runs/{{ run_id }}", ctx, "http.url") // "/runs/manual__1"
 */
export function renderString(s: string, ctx: TemplateContext, where: string): string {
  return s.replace(TEMPLATE, (_, expr: string) => asText(evaluate(expr, ctx, where)));
}

/** Renders a JSON body: string leaves are templated; a string that is one whole template keeps its value's type. */
export function renderJson(value: unknown, ctx: TemplateContext, where: string): unknown {
  if (typeof value === "string") {
    const whole = WHOLE.exec(value);
    return whole ? evaluate(whole[1]!, ctx, where) : renderString(value, ctx, where);
  }
  if (Array.isArray(value)) return value.map((v, i) => renderJson(v, ctx, `${where}[${i}]`));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderJson(v, ctx, `${where}.${k}`)]));
  return value;
}

/** The DAG's params defaults overlaid with the run's conf, as Airflow (and GetTaskSpec) compute them. */
export function templateParams(specParams: Record<string, { default?: unknown }>, conf: Record<string, unknown>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(specParams)) params[name] = p.default ?? null;
  return { ...params, ...conf };
}
