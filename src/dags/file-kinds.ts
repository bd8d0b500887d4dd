/**
 * Which files of a DAGs folder are DAG files, and which of them are code. Apart from the loader because the
 * server needs these two answers (scanning, the parse cache) but never the loader itself (YAML, the SDK),
 * which runs only in a parse process, `run-ts` and `dags validate`.
 */
import { basename, extname } from "node:path";

const DATA_EXTENSIONS = new Set([".json", ".yaml", ".yml"]);
const CODE_EXTENSIONS = new Set([".ts", ".js", ".mjs", ".mts"]);

/** True for TypeScript/JavaScript files: importing them runs their code. */
export function isCodeFile(path: string): boolean {
  return CODE_EXTENSIONS.has(extname(path).toLowerCase());
}

/** True for files the loader reads: known extensions, not hidden, not `_private` helpers. */
export function isDagFile(path: string): boolean {
  const name = basename(path);
  if (name.startsWith(".") || name.startsWith("_") || name.endsWith(".d.ts")) return false;
  const ext = extname(name).toLowerCase();
  return DATA_EXTENSIONS.has(ext) || CODE_EXTENSIONS.has(ext);
}
