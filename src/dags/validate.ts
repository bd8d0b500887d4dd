/** `leoflow dags validate PATH`: loads a file or a whole folder without a store, as the server would. */
import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { LoadResult } from "./loader";
import type { DagParser } from "./isolated-parser";
import { helpersDigest } from "./parse-cache";
import { listDagFiles, listHelperFiles } from "./scan";

/**
 * Loads one file, or every DAG file under a folder, through `parser` (the CLI passes an IsolatedDagParser,
 * so a hostile file ends as an error line, not as the CLI's death). In a folder, a dag_id defined by an
 * earlier file (by path order) is an error on the later one, as the server would report it.
 *
 * @example const results = await validatePath("./dags", parser); const ok = results.every((r) => r.errors.length === 0);
 */
export async function validatePath(path: string, parser: DagParser): Promise<LoadResult[]> {
  const abs = resolve(path);
  const info = await stat(abs).catch(() => null);
  if (!info) return [{ file: abs, dags: [], errors: [{ path: "", message: "no such file or folder" }] }];
  const folder = info.isDirectory() ? abs : dirname(abs);
  const helperFiles = await listHelperFiles(folder);
  const helpers = helpersDigest(
    await Promise.all(helperFiles.map(async (f) => ({ path: f.path, content: await Bun.file(f.path).bytes() }))),
  );
  if (!info.isDirectory()) return parser.parse([abs], helpers);
  const results = await parser.parse(
    (await listDagFiles(abs)).map((f) => f.path),
    helpers,
  );
  const owners = new Map<string, string>();
  for (const r of results) {
    r.dags = r.dags.filter(({ spec }) => {
      const owner = owners.get(spec.dag_id);
      if (owner === undefined) return (owners.set(spec.dag_id, r.file), true);
      r.errors.push({ path: "dag_id", message: `dag_id "${spec.dag_id}" is already defined in ${owner}; rename one of them` });
      return false;
    });
  }
  return results;
}
