/** `leoflow dags validate PATH`: loads a file or a whole folder without a store, as the server would. */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { loadDagFile, type LoadResult } from "./loader";
import { listDagFiles } from "./scan";

/**
 * Loads one file, or every DAG file under a folder. In a folder, a dag_id defined by an earlier file (by
 * path order) is an error on the later one, as the server would report it.
 *
 * @example const results = await validatePath("./dags"); const ok = results.every((r) => r.errors.length === 0);
 */
export async function validatePath(path: string): Promise<LoadResult[]> {
  const abs = resolve(path);
  const info = await stat(abs).catch(() => null);
  if (!info) return [{ file: abs, dags: [], errors: [{ path: "", message: "no such file or folder" }] }];
  if (!info.isDirectory()) return [await loadDagFile(abs)];
  const results: LoadResult[] = [];
  const owners = new Map<string, string>();
  for (const f of await listDagFiles(abs)) {
    const r = await loadDagFile(f.path);
    r.dags = r.dags.filter(({ spec }) => {
      const owner = owners.get(spec.dag_id);
      if (owner === undefined) return owners.set(spec.dag_id, r.file), true;
      r.errors.push({ path: "dag_id", message: `dag_id "${spec.dag_id}" is already defined in ${owner}; rename one of them` });
      return false;
    });
    results.push(r);
  }
  return results;
}
