/**
 * Task templates (pure): the `{{ … }}` subset of Airflow's Jinja that Leoflow renders in bash_command, env
 * values, container command/args and inline http requests. docs/templates.md lists every form; in short:
 * run names (`ds`, `ts`, `run_id`, `dag.dag_id`, `task.task_id`, `dag_run.conf.x`, …), `params.x`, `conf.x`,
 * `var.value.KEY`, `var.json.KEY.path`, `conn.ID.FIELD`, `ti.xcom_pull(task_ids='t', key='k')`,
 * `macros.ds_add(ds, n)`, Leoflow's short `var.KEY[.path]` and `xcom.TASK[.path]`, and the filters
 * `upper`, `lower`, `trim`, `tojson`, `replace(a, b)` and `default(v)`. A literal `{{` is written `{{ '{{' }}`.
 * Anything else — an unknown name, a missing variable, a syntax error — throws a TemplateError naming the
 * template, the field it is in, and what exists: a task never runs with an empty string in its place.
 *
 * Variables, connections and XComs are loaded by the caller first (`templateNeeds` says which), so
 * rendering stays pure.
 *
 * @example renderString("ls /data/{{ ds_nodash }}", ctx, "bash_command") // "ls /data/20260301"
 */
import { CONNECTION_FIELDS, connectionField, type ConnectionField, type TaskConnection } from "./env-from";
import { LeoflowError } from "./errors";

/** Values a template can see. Dates are UTC instants. */
export interface TemplateContext {
  dag_id: string;
  run_id: string;
  task_id: string;
  try_number: number;
  logical_date: Date | null;
  data_interval_start?: Date | null;
  data_interval_end?: Date | null;
  params: Record<string, unknown>;
  conf: Record<string, unknown>;
  /** task_id → its return_value XCom. */
  xcom: Record<string, unknown>;
  /** task_id → key → value, for `ti.xcom_pull(task_ids=…, key=…)` with a key other than return_value. */
  xcom_keys?: Record<string, Record<string, unknown>>;
  /** Variable key → value (text). */
  var: Record<string, string>;
  /** Connection id → connection. */
  conn?: Record<string, TaskConnection>;
  /** The instance's map_index (Airflow's ti.map_index): -1 when the task is not mapped. */
  map_index?: number;
  /** A mapped instance's arguments; absent when the task is not mapped, null when its list no longer has this index. */
  map?: Record<string, unknown> | null;
}

export class TemplateError extends LeoflowError {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

// ---- parsing -------------------------------------------------------------------------------------------

type Node =
  | { t: "lit"; v: string | number }
  | { t: "path"; segs: string[] }
  | { t: "call"; fn: string; args: Node[]; kwargs: Record<string, Node> }
  | { t: "filter"; of: Node; name: string; args: Node[] };

/** An expression, and whether it trims the whitespace before (`{{-`) and after (`-}}`) it, as Jinja's markers do. */
type Expr = { expr: string; lstrip?: boolean; rstrip?: boolean };
type Part = { text: string } | Expr;

/**
 * Splits a string into text and `{{ … }}` expressions; a `}}` inside a quoted string does not close one. Jinja's
 * whitespace control is applied here: `{{-` removes the whitespace (newlines included) before the expression,
 * `-}}` the whitespace after it.
 */
export function splitTemplate(s: string, where: string): Part[] {
  const parts: Part[] = [];
  let trimNext = false;
  const pushText = (text: string) => {
    const t = trimNext ? text.trimStart() : text;
    trimNext = false;
    if (t) parts.push({ text: t });
  };
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf("{{", i);
    if (open < 0) break;
    if (open > i) pushText(s.slice(i, open));
    else trimNext = false;
    let j = open + 2;
    let quote = "";
    for (; j < s.length; j++) {
      const ch = s[j]!;
      if (quote) {
        if (ch === quote) quote = "";
      } else if (ch === "'" || ch === '"') quote = ch;
      else if (ch === "}" && s[j + 1] === "}") break;
    }
    if (j >= s.length)
      throw new TemplateError(
        `template in ${where} opens "{{" at character ${open + 1} but never closes it with "}}"; write a literal {{ as {{ '{{' }}`,
      );
    const raw = s.slice(open + 2, j);
    const lstrip = raw.startsWith("-");
    const rstrip = raw.length > 1 && raw.endsWith("-");
    if (lstrip) {
      const prev = parts.at(-1);
      if (prev && "text" in prev) {
        prev.text = prev.text.trimEnd();
        if (!prev.text) parts.pop();
      }
    }
    const expr: Expr = { expr: raw.slice(lstrip ? 1 : 0, rstrip ? -1 : undefined).trim() };
    if (lstrip) expr.lstrip = true;
    if (rstrip) expr.rstrip = true;
    parts.push(expr);
    trimNext = rstrip;
    i = j + 2;
  }
  if (i < s.length) pushText(s.slice(i));
  return parts;
}

const TOKEN = /\s*(?:('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?)(?![\w-])|([A-Za-z_][\w-]*|\d[\w-]*)|(\S))/y;
type Tok = { kind: "str" | "num" | "name" | "punct"; v: string };

function tokenize(expr: string, fail: (why: string) => TemplateError): Tok[] {
  const toks: Tok[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expr.length) {
    const m = TOKEN.exec(expr);
    if (!m) break;
    if (m[1] !== undefined) toks.push({ kind: "str", v: m[1].slice(1, -1).replace(/\\(.)/g, "$1") });
    else if (m[2] !== undefined) toks.push({ kind: "num", v: m[2] });
    else if (m[3] !== undefined) toks.push({ kind: "name", v: m[3] });
    else if (m[4] !== undefined) {
      if (!".,()|=".includes(m[4])) throw fail(`unexpected "${m[4]}"; ${HELP}`);
      toks.push({ kind: "punct", v: m[4] });
    }
  }
  return toks;
}

function parse(expr: string, fail: (why: string) => TemplateError): Node {
  if (!expr) throw fail(`empty template; ${HELP}`);
  const toks = tokenize(expr, fail);
  let k = 0;
  const peek = (v: string) => toks[k]?.kind === "punct" && toks[k]!.v === v;
  const expect = (v: string) => {
    if (!peek(v)) throw fail(`expected "${v}" ${toks[k] ? `before "${toks[k]!.v}"` : "at the end"}`);
    k++;
  };
  const args = (): { args: Node[]; kwargs: Record<string, Node> } => {
    const out: { args: Node[]; kwargs: Record<string, Node> } = { args: [], kwargs: {} };
    expect("(");
    while (!peek(")")) {
      const named = toks[k]?.kind === "name" && toks[k + 1]?.kind === "punct" && toks[k + 1]!.v === "=";
      if (named) {
        const name = toks[k]!.v;
        k += 2;
        out.kwargs[name] = primary();
      } else out.args.push(primary());
      if (!peek(")")) expect(",");
    }
    k++;
    return out;
  };
  const primary = (): Node => {
    const tok = toks[k++];
    if (!tok) throw fail("the expression ends too early");
    if (tok.kind === "str") return { t: "lit", v: tok.v };
    if (tok.kind === "num") return { t: "lit", v: Number(tok.v) };
    if (tok.kind !== "name" || /^\d/.test(tok.v))
      throw fail(`unexpected "${tok.v}" (a literal {{ is written {{ '{{' }}, e.g. for docker's --format); ${HELP}`);
    const segs = [tok.v];
    while (peek(".")) {
      k++;
      const seg = toks[k++];
      if (!seg || (seg.kind !== "name" && seg.kind !== "num")) throw fail(`a name must follow "${segs.join(".")}."`);
      segs.push(...seg.v.split(".")); // `list.1.2` reads as the number 1.2: two indexes
    }
    if (peek("(")) return { t: "call", fn: segs.join("."), ...args() };
    return { t: "path", segs };
  };
  let node = primary();
  while (peek("|")) {
    k++;
    const name = toks[k++];
    if (name?.kind !== "name") throw fail(`a filter name must follow "|"; filters: ${Object.keys(FILTERS).join(", ")}`);
    node = { t: "filter", of: node, name: name.v, args: peek("(") ? args().args : [] };
  }
  if (k < toks.length) throw fail(`unexpected "${toks[k]!.v}"; ${HELP}`);
  return node;
}

// ---- what no value can fix (checked when a DAG is loaded) ----------------------------------------------

const ROOTS: ReadonlySet<string> = new Set(["dag", "task", "ti", "dag_run", "params", "conf", "xcom", "var", "conn", "map"]);
const FUNCTIONS: ReadonlySet<string> = new Set(["ti.xcom_pull", "macros.ds_add"]);

/**
 * The problems of a string's templates that no variable, param or XCom can fix — a syntax error, an unknown
 * name, function or filter — each as the message a failed try would give. Empty when there are none.
 */
export function templateSyntaxProblems(s: string, where: string): string[] {
  if (!s.includes("{{")) return [];
  let parts: Part[];
  try {
    parts = splitTemplate(s, where);
  } catch (e) {
    return [(e as Error).message];
  }
  const problems: string[] = [];
  for (const p of parts) {
    if (!("expr" in p)) continue;
    const fail = failIn(p, where);
    try {
      checkNode(parse(p.expr, fail), fail);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      problems.push(e.message);
    }
  }
  return problems;
}

function checkNode(n: Node, fail: Fail): void {
  if (n.t === "filter") {
    if (!FILTERS[n.name]) throw fail(`unknown filter "${n.name}"; filters: ${Object.keys(FILTERS).join(", ")}`);
    checkNode(n.of, fail);
    for (const a of n.args) checkNode(a, fail);
  } else if (n.t === "call") {
    if (!FUNCTIONS.has(n.fn))
      throw fail(`unknown function "${n.fn}"; the functions are ti.xcom_pull(task_ids=…, key=…) and macros.ds_add(ds, days)`);
    for (const a of n.args) checkNode(a, fail);
    for (const a of Object.values(n.kwargs)) checkNode(a, fail);
  } else if (n.t === "path") {
    const [root = "", ...rest] = n.segs;
    if ((SCALARS as readonly string[]).includes(root)) {
      if (rest.length) throw fail(`${root} has no fields`);
    } else if (!ROOTS.has(root)) throw fail(`unknown name "${root}"; ${HELP}`);
    const unknownField = fixedFieldProblem(n.segs);
    if (unknownField) throw fail(unknownField);
  }
}

/** The objects whose fields are a fixed set, and those fields: a template naming another fails whatever the values. */
const FIXED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  dag: ["dag_id"],
  task: ["task_id"],
  ti: ["dag_id", "run_id", "task_id", "try_number", "map_index"],
  dag_run: ["run_id", "dag_id", "conf", "logical_date"],
};

/** The fixed fields a path may go on into (`dag_run.conf.NAME`). */
const OPEN_FIELDS: ReadonlySet<string> = new Set(["dag_run.conf"]);

/** Why a path names no field of a fixed object (`dag_run.run_type`), or null. */
function fixedFieldProblem(segs: string[]): string | null {
  const [root = "", ...path] = segs;
  const fields = FIXED_FIELDS[root];
  if (!fields) return null;
  const known = fields.join(", ");
  if (!path.length) return `name a field of ${root}: ${known}`;
  if (fields.includes(path[0]!) && (path.length === 1 || OPEN_FIELDS.has(`${root}.${path[0]}`))) return null;
  return `${root} has no field "${path.join(".")}" (fields: ${known})`;
}

// ---- what a template needs loaded ---------------------------------------------------------------------

/**
 * What the templates of some strings read, for the caller to load before rendering. Each entry lists the
 * names to try, longest first: task ids, variable keys and connection ids may contain dots.
 */
export interface TemplateNeeds {
  vars: string[][];
  conns: string[][];
  xcoms: { taskIds: string[]; key: string }[];
  /** A template reads the mapped instance's arguments (`map.NAME`). */
  map: boolean;
}

/** The variables, connections and XComs referenced in `texts`; a malformed template is reported at render. */
export function templateNeeds(texts: Iterable<string>): TemplateNeeds {
  const needs: TemplateNeeds = { vars: [], conns: [], xcoms: [], map: false };
  const visit = (n: Node): void => {
    if (n.t === "filter") {
      visit(n.of);
      n.args.forEach(visit);
    } else if (n.t === "call") {
      n.args.forEach(visit);
      Object.values(n.kwargs).forEach(visit);
      if (n.fn === "ti.xcom_pull") {
        const task = n.kwargs.task_ids ?? n.args[0];
        const key = n.kwargs.key ?? n.args[1];
        if (task?.t === "lit") needs.xcoms.push({ taskIds: [String(task.v)], key: key?.t === "lit" ? String(key.v) : "return_value" });
      }
    } else if (n.t === "path") {
      const [ns, ...path] = n.segs;
      if (ns === "xcom" && path.length) needs.xcoms.push({ taskIds: candidateKeys(path).map((c) => c.key), key: "return_value" });
      if (ns === "conn" && path.length) needs.conns.push(candidateKeys(path).map((c) => c.key));
      if (ns === "map") needs.map = true;
      if (ns === "var" && path.length) {
        const airflow = varForm(path);
        needs.vars.push(airflow ? airflow.candidates : candidateKeys(path).map((c) => c.key));
      }
    }
  };
  for (const s of texts) {
    try {
      for (const p of splitTemplate(s, "")) if ("expr" in p) visit(parse(p.expr, (why) => new TemplateError(why)));
    } catch {
      // Rendering reports it with the field's name.
    }
  }
  return needs;
}

/** `var.value.KEY` (the whole rest is the key) and `var.json.KEY[.path]`; null for Leoflow's `var.KEY[.path]`. */
function varForm(path: string[]): { json: boolean; candidates: string[] } | null {
  const [form, ...rest] = path;
  if ((form !== "value" && form !== "json") || !rest.length) return null;
  return { json: form === "json", candidates: form === "value" ? [rest.join(".")] : candidateKeys(rest).map((c) => c.key) };
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

// ---- evaluation ----------------------------------------------------------------------------------------

const SCALARS = [
  "ds",
  "ds_nodash",
  "ts",
  "ts_nodash",
  "logical_date",
  "data_interval_start",
  "data_interval_end",
  "run_id",
  "dag_id",
  "task_id",
  "try_number",
  "map_index",
] as const;
const HELP = `use ${SCALARS.join(", ")}, dag.dag_id, task.task_id, dag_run.conf.<name>, params.<name>, conf.<name>, var.value.<key>, var.json.<key>[.<path>], conn.<id>.<field>, ti.xcom_pull(task_ids='<task>'[, key='<key>']), xcom.<task_id>[.<path>], map.<name>[.<path>] (a mapped task's argument) or macros.ds_add(ds, <days>) (docs/templates.md)`;

type Fail = (why: string) => TemplateError;

function dateForms(name: string, d: Date): unknown {
  const iso = d.toISOString();
  const ts = iso.replace(/\.\d{3}Z$/, "+00:00");
  switch (name) {
    case "ds":
      return iso.slice(0, 10);
    case "ds_nodash":
      return iso.slice(0, 10).replaceAll("-", "");
    case "ts":
      return ts;
    case "ts_nodash":
      return ts.slice(0, 19).replaceAll("-", "").replaceAll(":", "");
    default:
      return iso;
  }
}

function scalar(name: string, ctx: TemplateContext, fail: Fail): unknown {
  switch (name) {
    case "run_id":
    case "dag_id":
    case "task_id":
    case "try_number":
      return ctx[name];
    case "map_index":
      return ctx.map_index ?? -1;
    case "data_interval_start":
    case "data_interval_end": {
      const d = ctx[name] ?? ctx.logical_date;
      if (!d) throw fail(`this run has no ${name} (it was triggered without a logical date)`);
      return d.toISOString();
    }
    default:
      if (!ctx.logical_date) throw fail("this run has no logical_date (it was triggered without one)");
      return dateForms(name, ctx.logical_date);
  }
}

function evalPath(segs: string[], ctx: TemplateContext, fail: Fail): unknown {
  const [ns = "", ...path] = segs;
  const noFields = (v: unknown, name: string) => {
    if (path.length) throw fail(`${name} has no fields`);
    return v;
  };
  if ((SCALARS as readonly string[]).includes(ns)) return noFields(scalar(ns, ctx, fail), ns);
  switch (ns) {
    case "dag":
    case "task":
    case "ti":
    case "dag_run": {
      const unknownField = fixedFieldProblem(segs);
      if (unknownField) throw fail(unknownField);
      const [field = "", ...rest] = path;
      if (ns === "dag_run" && field === "conf") return evalBag("conf", rest, ctx.conf, fail);
      if (ns === "dag_run" && field === "logical_date") return scalar("logical_date", ctx, fail);
      if (field === "map_index") return ctx.map_index ?? -1;
      return ctx[field as "dag_id" | "run_id" | "task_id" | "try_number"];
    }
    case "params":
    case "conf":
      return evalBag(ns, path, ns === "params" ? ctx.params : ctx.conf, fail);
    case "xcom":
      return evalXcom(path, ctx, fail);
    case "var":
      return evalVar(path, ctx, fail);
    case "conn":
      return evalConn(path, ctx, fail);
    case "map":
      return evalMap(path, ctx, fail);
    default:
      throw fail(`unknown name "${ns}"; ${HELP}`);
  }
}

function evalBag(ns: string, path: string[], bag: Record<string, unknown>, fail: Fail): unknown {
  const [name, ...rest] = path;
  if (!name) throw fail(`name the ${ns} field, e.g. {{ ${ns}.limit }}`);
  if (!Object.hasOwn(bag, name))
    throw fail(`no ${ns === "params" ? "param" : "conf key"} "${name}" (known: ${Object.keys(bag).join(", ") || "none"})`);
  return dig(bag[name], rest, `${ns}.${name}`, fail);
}

function evalMap(path: string[], ctx: TemplateContext, fail: Fail): unknown {
  if (ctx.map === undefined)
    throw fail(`task ${ctx.task_id} is not mapped, so it has no map arguments; give it expand or expand_kwargs (docs/mapping.md)`);
  if (ctx.map === null)
    throw fail(
      `map_index ${ctx.map_index} of task ${ctx.task_id} has no mapped arguments: the list it was expanded over no longer has that index (was an upstream cleared and rerun?); clear the mapped task to expand it again`,
    );
  const [name, ...rest] = path;
  if (!name) throw fail("name the mapped argument, e.g. {{ map.file }}");
  if (!Object.hasOwn(ctx.map, name)) throw fail(`no mapped argument "${name}" (arguments: ${Object.keys(ctx.map).join(", ") || "none"})`);
  return dig(ctx.map[name], rest, `map.${name}`, fail);
}

function evalXcom(path: string[], ctx: TemplateContext, fail: Fail): unknown {
  if (!path.length) throw fail("name the task, e.g. {{ xcom.extract }}");
  const hit = candidateKeys(path).find((c) => Object.hasOwn(ctx.xcom, c.key));
  if (!hit) throw fail(`task "${path[0]}" has no return_value XCom in this run (is it an upstream that succeeded and returned something?)`);
  return dig(ctx.xcom[hit.key], hit.rest, `xcom.${hit.key}`, fail);
}

function evalVar(path: string[], ctx: TemplateContext, fail: Fail): unknown {
  if (!path.length) throw fail("name the variable, e.g. {{ var.value.api_url }}");
  const airflow = varForm(path);
  const full = airflow ? path.slice(1) : path;
  const hit = airflow && !airflow.json ? { key: full.join("."), rest: [] } : candidateKeys(full).find((c) => Object.hasOwn(ctx.var, c.key));
  if (!hit || !Object.hasOwn(ctx.var, hit.key))
    throw fail(
      `variable "${full.join(".")}" does not exist in this task's team; create it with 'leoflow variables set KEY VALUE' (or POST /api/v2/variables)`,
    );
  const text = ctx.var[hit.key]!;
  // A variable is text; var.json (or a path into it) reads it as JSON.
  if (!airflow?.json && !hit.rest.length) return text;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw fail(`variable "${hit.key}" is not JSON, so ${hit.rest.length ? `it has no field "${hit.rest[0]}"` : "var.json cannot read it"}`);
  }
  return dig(value, hit.rest, `variable ${hit.key}`, fail);
}

const CONN_FIELDS: readonly string[] = [...CONNECTION_FIELDS, "extra_dejson"];

function evalConn(path: string[], ctx: TemplateContext, fail: Fail): unknown {
  if (!path.length) throw fail("name the connection and a field, e.g. {{ conn.warehouse.password }}");
  const conns = ctx.conn ?? {};
  const hit = candidateKeys(path).find((c) => Object.hasOwn(conns, c.key));
  if (!hit)
    throw fail(
      `connection "${path.filter((p) => !CONN_FIELDS.includes(p)).join(".")}" does not exist in this task's team; create it with 'leoflow connections add ID --conn-uri URI' (or POST /api/v2/connections)`,
    );
  const conn = conns[hit.key]!;
  const [field = "uri", ...rest] = hit.rest;
  if (field === "extra_dejson") {
    let extra: unknown = {};
    try {
      extra = conn.extra ? JSON.parse(conn.extra) : {};
    } catch {
      throw fail(`the extra of connection "${hit.key}" is not JSON`);
    }
    return dig(extra, rest, `conn.${hit.key}.extra_dejson`, fail);
  }
  if (!(CONNECTION_FIELDS as readonly string[]).includes(field) || rest.length)
    throw fail(`connection "${hit.key}" has no field "${hit.rest.join(".")}" (fields: ${CONN_FIELDS.join(", ")})`);
  const value = connectionField(conn, field as ConnectionField);
  if (value === null) throw fail(`connection "${hit.key}" has no ${field}; set it or drop it from the template`);
  return value;
}

function evalCall(n: Extract<Node, { t: "call" }>, ctx: TemplateContext, fail: Fail): unknown {
  const arg = (name: string, i: number) => {
    const a = n.kwargs[name] ?? n.args[i];
    return a === undefined ? undefined : evalNode(a, ctx, fail);
  };
  if (n.fn === "ti.xcom_pull") {
    const taskId = arg("task_ids", 0);
    const key = arg("key", 1) ?? "return_value";
    if (typeof taskId !== "string" || typeof key !== "string")
      throw fail(
        "write ti.xcom_pull(task_ids='<task_id>') or ti.xcom_pull(task_ids='<task_id>', key='<key>') (one task id, as a quoted string)",
      );
    const bag = key === "return_value" ? ctx.xcom : (ctx.xcom_keys?.[taskId] ?? {});
    const name = key === "return_value" ? taskId : key;
    if (!Object.hasOwn(bag, name))
      throw fail(`task "${taskId}" has no XCom "${key}" in this run (is it an upstream that succeeded and pushed it?)`);
    return bag[name];
  }
  if (n.fn === "macros.ds_add") {
    const ds = arg("ds", 0);
    const days = arg("days", 1);
    if (typeof ds !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(ds) || typeof days !== "number" || !Number.isInteger(days))
      throw fail("write macros.ds_add(ds, <whole number of days>), e.g. macros.ds_add(ds, -1)");
    return new Date(Date.parse(`${ds}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
  }
  throw fail(`unknown function "${n.fn}"; the functions are ti.xcom_pull(task_ids=…, key=…) and macros.ds_add(ds, days)`);
}

const FILTERS: Record<string, (v: unknown, args: unknown[]) => unknown> = {
  upper: (v) => asText(v).toUpperCase(),
  lower: (v) => asText(v).toLowerCase(),
  trim: (v) => asText(v).trim(),
  tojson: (v) => JSON.stringify(v),
  replace: (v, [a, b]) => asText(v).replaceAll(asText(a), asText(b)),
  default: (v) => v,
};

function evalNode(n: Node, ctx: TemplateContext, fail: Fail): unknown {
  switch (n.t) {
    case "lit":
      return n.v;
    case "path":
      return evalPath(n.segs, ctx, fail);
    case "call":
      return evalCall(n, ctx, fail);
    case "filter": {
      const f = FILTERS[n.name];
      if (!f) throw fail(`unknown filter "${n.name}"; filters: ${Object.keys(FILTERS).join(", ")}`);
      const args = n.args.map((a) => evalNode(a, ctx, fail));
      if (n.name === "default") {
        // Jinja's default: the fallback when the value is not there (a missing variable, param, XCom…).
        try {
          return evalNode(n.of, ctx, fail);
        } catch (e) {
          if (e instanceof TemplateError) return args[0] ?? "";
          throw e;
        }
      }
      return f(evalNode(n.of, ctx, fail), args);
    }
  }
}

function dig(value: unknown, path: string[], name: string, fail: Fail): unknown {
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

/** Longest expression an error quotes whole; a longer one is quoted by its ends (a generated template can be 40 KB). */
const QUOTED_EXPR_MAX = 120;

/** A failure of one expression, quoting it as written (by its ends when long; its trim markers kept) and where it is. */
function failIn({ expr, lstrip, rstrip }: Expr, where: string): Fail {
  const quoted = expr.length <= QUOTED_EXPR_MAX ? expr : `${expr.slice(0, 80)}…(${expr.length - 110} characters)…${expr.slice(-30)}`;
  return (why) => new TemplateError(`template {{${lstrip ? "-" : ""} ${quoted} ${rstrip ? "-" : ""}}} in ${where}: ${why}`);
}

const asText = (v: unknown): string => (typeof v === "string" ? v : v === undefined ? "" : JSON.stringify(v));

/** Evaluates one expression (the text between the braces, or a part of splitTemplate) to its value. */
export function evaluate(expr: string | Expr, ctx: TemplateContext, where: string): unknown {
  const e = typeof expr === "string" ? { expr } : expr;
  const fail = failIn(e, where);
  return evalNode(parse(e.expr, fail), ctx, fail);
}

/**
 * Renders every `{{ … }}` of a string as text (objects and lists as JSON).
 *
 * @example renderString("/runs/{{ run_id }}", ctx, "http.url") // "/runs/manual__1"
 */
export function renderString(s: string, ctx: TemplateContext, where: string): string {
  if (!s.includes("{{")) return s;
  return splitTemplate(s, where)
    .map((p) => ("text" in p ? p.text : asText(evaluate(p, ctx, where))))
    .join("");
}

/** Renders a JSON body: string leaves are templated; a string that is one whole template keeps its value's type. */
export function renderJson(value: unknown, ctx: TemplateContext, where: string): unknown {
  if (typeof value === "string") {
    const parts = value.includes("{{") ? splitTemplate(value, where) : [];
    const only = parts.length === 1 ? parts[0]! : null;
    return only && "expr" in only ? evaluate(only, ctx, where) : renderString(value, ctx, where);
  }
  if (Array.isArray(value)) return value.map((v, i) => renderJson(v, ctx, `${where}[${i}]`));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderJson(v, ctx, `${where}.${k}`)]));
  return value;
}

/** The DAG's params defaults (null when a param has no default) overlaid with the run's conf, as Airflow does. */
export function templateParams(specParams: Record<string, { default?: unknown }>, conf: Record<string, unknown>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(specParams)) params[name] = p.default ?? null;
  return { ...params, ...conf };
}
