/**
 * Where a file sensor may look: only under the server's allowed roots (`--sensor-file-roots`, default the
 * DAGs folders and the data dir's staging/ folder), so a DAG author cannot probe arbitrary server paths.
 * A path is judged after `..` is resolved, by its longest prefix without glob characters. Pure.
 */
import type { DagSpec } from "./dag-spec";

const GLOB_CHARS = /[*?[{]/;

/** An absolute path's segments with `.`, `..` and empty ones resolved (`/a/./b/../c/` → ["a", "c"]). */
function segments(path: string): string[] {
  const out: string[] = [];
  for (const p of path.split("/"))
    if (p === "..") out.pop();
    else if (p !== "" && p !== ".") out.push(p);
  return out;
}

/** A file sensor's path with `..` and `.` resolved, so what is read is what the roots were checked against. */
export const normalizeSensorPath = (path: string): string => `/${segments(path).join("/")}`;

/** The folder a file sensor's path or glob reads from: the normalized path up to its first glob segment. */
export function sensorFileBase(path: string): string {
  const parts = segments(path);
  const first = parts.findIndex((p) => GLOB_CHARS.test(p));
  return `/${(first === -1 ? parts : parts.slice(0, first)).join("/")}`;
}

/** Why `path` is outside every root (the message a user reads), or null when it is under one. */
export function sensorFileRootProblem(path: string, roots: readonly string[]): string | null {
  const base = sensorFileBase(path);
  const under = roots.some((r) => {
    const root = `/${segments(r).join("/")}`;
    return root === "/" || base === root || base.startsWith(`${root}/`);
  });
  if (under) return null;
  const allowed = roots.length ? roots.join(", ") : "none";
  return `file sensor path "${path}" is outside the folders file sensors may read (${allowed}); move the file under one of them, or add its folder to --sensor-file-roots (LEOFLOW_SENSOR_FILE_ROOTS)`;
}

/** Load-time policy: a file sensor whose path is outside the roots refuses the DAG (an import error per task). */
export function admitSensorFileRoots(spec: DagSpec, roots: readonly string[]): { path: string; message: string }[] {
  return spec.tasks.flatMap((t, i) => {
    if (t.sensor?.kind !== "file") return [];
    const problem = sensorFileRootProblem(t.sensor.path, roots);
    return problem ? [{ path: `tasks[${i}].sensor.path`, message: `task "${t.task_id}": ${problem}` }] : [];
  });
}
