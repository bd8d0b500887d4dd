/** Lists the DAG files under a folder, with the mtime and size that tell a changed file from an unchanged one. */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { isDagFile } from "./file-kinds";

export interface ScannedFile {
  /** Absolute path. */
  path: string;
  mtimeMs: number;
  size: number;
}

/** Folders never searched: hidden, private (`_lib`), dependencies and caches. */
export const skipDir = (name: string): boolean => name.startsWith(".") || name.startsWith("_") || name === "node_modules";

/** How deep a scan goes. */
export interface ScanOptions {
  /**
   * Only the folder's own files (and its `_` helper folders), not its subfolders: the team default's folder
   * under --dags-folder-layout=teams, whose subfolders are other teams' folders.
   */
  topOnly?: boolean;
}

/**
 * Recursively lists DAG files (see `isDagFile`), sorted by path so results are stable. Throws with a clear
 * message when the folder is missing or is not a folder.
 */
export async function listDagFiles(folder: string, opts: ScanOptions = {}): Promise<ScannedFile[]> {
  const info = await stat(folder).catch(() => null);
  if (!info) throw new Error(`DAG folder "${folder}" does not exist; create it or point --dags-folder at an existing folder`);
  if (!info.isDirectory()) throw new Error(`DAG folder "${folder}" is not a folder`);
  const out: ScannedFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (!skipDir(e.name) && !opts.topOnly) await walk(path);
      } else if ((e.isFile() || e.isSymbolicLink()) && isDagFile(path)) {
        // A file deleted between readdir and stat is simply not there this time.
        const s = await stat(path).catch(() => null);
        if (s?.isFile()) out.push({ path, mtimeMs: s.mtimeMs, size: s.size });
      }
    }
  };
  await walk(folder);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const HELPER_EXTENSIONS = /\.(ts|mts|js|mjs|json|ya?ml)$/i;

/**
 * Files a DAG file may import that are not DAG files themselves: `_helpers.ts`, everything under `_lib/`,
 * `_config.json`. Their bytes are part of code files' cache key, and a change to one re-parses the code
 * files. Hidden folders and node_modules are not searched (not covered by the cache key).
 */
export async function listHelperFiles(folder: string, opts: ScanOptions = {}): Promise<ScannedFile[]> {
  const out: ScannedFile[] = [];
  const walk = async (dir: string, helper: boolean): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.name.startsWith(".") || e.name === "node_modules") continue;
      // Under topOnly the subfolders that are not helper folders belong to other teams.
      if (e.isDirectory()) {
        if (!opts.topOnly || helper || e.name.startsWith("_")) await walk(path, helper || e.name.startsWith("_"));
      } else if ((helper || !isDagFile(path)) && HELPER_EXTENSIONS.test(e.name) && !e.name.endsWith(".d.ts")) {
        const s = await stat(path).catch(() => null);
        if (s?.isFile()) out.push({ path, mtimeMs: s.mtimeMs, size: s.size });
      }
    }
  };
  await walk(folder, false);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
