/**
 * Loads one DAG file — dag.json, dag.yaml or a TypeScript/JavaScript file using `leoflow/sdk` — into
 * validated DagSpecs plus a list of problems. Never throws: a bad file is an import error, not a crash.
 * It imports code into the calling process: the server calls it only inside a parse process
 * (parse-worker.ts, started by isolated-parser.ts); `leoflow run-ts` calls it to run a `ts` task.
 */
import { stat } from "node:fs/promises";
import { extname, resolve } from "node:path";
import YAML from "yaml";
import { ValidationError, type DagSpec } from "../domain";
import { parseDagSpec } from "../domain/schemas";
import { collectDags, isDag, type Dag } from "../sdk";
import { isCodeFile } from "./file-kinds";
import { findJsonError, positionOf } from "./json-position";
import { registerSdkPlugin } from "./ts-plugin";

export interface LoadError {
  /** Field path (`tasks[2].upstream[0]`), text position (`line 3, column 5`), or "" for the whole file. */
  path: string;
  message: string;
}

export interface LoadedDag {
  spec: DagSpec;
  /** `ts` task functions by task_id (SDK files only). */
  functions?: ReadonlyMap<string, (ctx: never) => unknown>;
}

export interface LoadResult {
  /** Absolute path. */
  file: string;
  dags: LoadedDag[];
  errors: LoadError[];
}

/**
 * Loads and validates every DAG of one file.
 *
 * @example const { dags, errors } = await loadDagFile("/srv/dags/etl.yaml");
 */
export async function loadDagFile(path: string): Promise<LoadResult> {
  const file = resolve(path);
  const result: LoadResult = { file, dags: [], errors: [] };
  try {
    const ext = extname(file).toLowerCase();
    if (isCodeFile(file)) await loadCode(file, result);
    else if (ext === ".json") loadData(parseJson(await Bun.file(file).text(), result), result);
    else if (ext === ".yaml" || ext === ".yml") loadData(parseYaml(await Bun.file(file).text(), result), result);
    else result.errors.push({ path: "", message: `unsupported file type "${ext}"; use .json, .yaml, .yml, .ts or .js` });
  } catch (e) {
    result.errors.push({ path: "", message: e instanceof Error ? e.message : String(e) });
  }
  return result;
}

// ---- dag.json / dag.yaml ---------------------------------------------------------------------------------

const NOTHING = Symbol("nothing");

function parseJson(text: string, result: LoadResult): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const err = findJsonError(text) ?? { offset: 0, message: "invalid JSON" };
    const { line, column } = positionOf(text, err.offset);
    result.errors.push({ path: `line ${line}, column ${column}`, message: `invalid JSON: ${err.message}` });
    return NOTHING;
  }
}

function parseYaml(text: string, result: LoadResult): unknown {
  const docs = YAML.parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const values: unknown[] = [];
  for (const doc of list) {
    for (const err of doc.errors) {
      const pos = err.linePos?.[0];
      const reason = err.message.split(" at line ")[0]!;
      result.errors.push({ path: pos ? `line ${pos.line}, column ${pos.col}` : "", message: `invalid YAML: ${reason}` });
    }
    if (doc.errors.length === 0 && doc.contents !== null) {
      try {
        values.push(doc.toJS());
      } catch (e) {
        // Aliases expanded past the library's limit (a "billion laughs" file), or a cycle.
        result.errors.push({ path: "", message: `invalid YAML: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
  }
  if (result.errors.length) return NOTHING;
  if (values.length === 0) {
    result.errors.push({ path: "", message: "the file is empty; write a DAG (a mapping with dag_id and tasks)" });
    return NOTHING;
  }
  return values.length === 1 ? values[0] : values.flatMap((v) => (Array.isArray(v) ? v : [v]));
}

/** One DAG, or a list of DAGs; each is validated on its own so one bad DAG does not hide the others. */
function loadData(value: unknown, result: LoadResult): void {
  if (value === NOTHING) return;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) result.errors.push({ path: "", message: "the file holds an empty list; write at least one DAG" });
  list.forEach((raw, i) => {
    const prefix = Array.isArray(value) ? `[${i}]` : "";
    try {
      addDag(result, { spec: parseDagSpec(raw) }, prefix);
    } catch (e) {
      pushValidation(result, e, prefix);
    }
  });
}

function addDag(result: LoadResult, dag: LoadedDag, prefix: string): void {
  if (result.dags.some((d) => d.spec.dag_id === dag.spec.dag_id))
    result.errors.push({ path: join(prefix, "dag_id"), message: `dag_id "${dag.spec.dag_id}" is defined twice in this file` });
  else result.dags.push(dag);
}

function pushValidation(result: LoadResult, e: unknown, prefix: string, suffix = ""): void {
  if (e instanceof ValidationError && e.issues.length)
    for (const issue of e.issues) result.errors.push({ path: join(prefix, issue.path), message: issue.message + suffix });
  else result.errors.push({ path: prefix, message: (e instanceof Error ? e.message : String(e)) + suffix });
}

const join = (prefix: string, path: string) =>
  prefix && path ? (path.startsWith("[") ? prefix + path : `${prefix}.${path}`) : prefix || path;

// ---- TypeScript / JavaScript (SDK) -----------------------------------------------------------------------

/** Results per imported version: a second import() of the same URL returns the cached module without
 * running it again, so the DAGs it declared must be remembered here. */
const codeCache = new Map<string, { dags: Dag[]; error?: unknown }>(); // by URL: Bun keeps every version's module too
let importQueue: Promise<unknown> = Promise.resolve();

/**
 * Imports a DAG file through the SDK plugin and returns the DAGs it declared (registered by `dag()` while it
 * ran, plus any exported). `fresh` re-imports a changed file (a `?v=<mtime>-<size>` suffix defeats the cache).
 * Rejects with the file's own error (syntax, thrown, invalid DAG).
 */
export async function importDagModule(file: string, fresh = true): Promise<Dag[]> {
  registerSdkPlugin();
  // A plain path, not a file:// URL: Bun ignores the query of a file URL and would serve the cached module.
  let url = file;
  if (fresh) {
    const s = await stat(file);
    url += `?v=${s.mtimeMs}-${s.size}`;
  }
  const load = async () => {
    const cached = codeCache.get(url);
    if (cached) return cached;
    let entry: { dags: Dag[]; error?: unknown };
    try {
      // No timeout here: the server imports DAG files only in a parse process, which it kills at the limit.
      const { dags, result } = await collectDags(() => import(url));
      const exported = Object.values(result as Record<string, unknown>).filter(isDag);
      entry = { dags: [...dags, ...exported.filter((d) => !dags.includes(d))] };
    } catch (error) {
      entry = { dags: [], error };
    }
    codeCache.set(url, entry);
    return entry;
  };
  // Serialised: the SDK's registry collects into one list at a time.
  const run = importQueue.then(load, load);
  importQueue = run;
  const entry = await run;
  if (entry.error !== undefined) throw entry.error;
  return entry.dags;
}

async function loadCode(file: string, result: LoadResult): Promise<void> {
  let dags: Dag[];
  try {
    dags = await importDagModule(file);
  } catch (e) {
    pushCodeError(file, e, result);
    return;
  }
  if (dags.length === 0) {
    result.errors.push({
      path: "",
      message: 'no DAG declared: call dag() from "leoflow/sdk" (name helper modules with a leading "_" so they are skipped)',
    });
  }
  for (const d of dags) {
    try {
      addDag(result, { spec: parseDagSpec(d.spec), functions: d.functions }, "");
    } catch (e) {
      pushValidation(result, e, "", ` (dag "${d.dag_id}")`);
    }
  }
}

/** Syntax errors carry positions; thrown errors carry a stack whose frame in this file gives the line. */
function pushCodeError(file: string, e: unknown, result: LoadResult): void {
  const build = (e as { errors?: { message?: string; position?: { line: number; column: number } }[] })?.errors;
  if (e instanceof AggregateError && Array.isArray(build) && build.length) {
    for (const b of build)
      result.errors.push({
        path: b.position ? `line ${b.position.line}, column ${b.position.column}` : "",
        message: `syntax error: ${b.message ?? String(b)}`,
      });
    return;
  }
  if (e instanceof ValidationError) return pushValidation(result, e, "");
  const message = e instanceof Error ? e.message : String(e);
  const frame = e instanceof Error ? e.stack?.split("\n").find((l) => l.includes(file)) : undefined;
  const at = frame && /:(\d+):(\d+)\)?\s*$/.exec(frame);
  result.errors.push({ path: at ? `line ${at[1]}, column ${at[2]}` : "", message: `error while importing: ${message}` });
}
