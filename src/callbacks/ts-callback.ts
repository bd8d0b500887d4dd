/**
 * `{ ts: "file.ts:function" }` callbacks: the function runs in a child process of this binary
 * (`leoflow __run-callback`), never in the server, as DAG files are parsed in one: its own process group,
 * the task environment's allowlist (BASE_TASK_ENV and --task-env-passthrough, nothing of the server's
 * secrets), the callback's timeout, and the context as JSON on stdin. The file is a path relative to the
 * DAG file's folder and must stay inside it.
 */
import { dirname, relative, resolve, isAbsolute } from "node:path";
import { TemplateError, TS_CALLBACK } from "../domain";
import { stopProcessGroup } from "../executors";

export interface TsCallbackSettings {
  /** argv prefix that starts this program (`[binary]`, or `[bun, src/main.ts]` in development). */
  command: string[];
  /** The child's whole environment. */
  env: Record<string, string>;
}

/** What a ts callback function receives. */
export interface TsCallbackContext {
  kind: string;
  dag_id: string;
  run_id: string;
  task_id: string | null;
  try_number: number;
  logical_date: string | null;
  conf: Record<string, unknown>;
  params: Record<string, unknown>;
}

const STDERR_TAIL = 2048;

/** The module and export a spec names, resolved beside the DAG file; refused when it leaves the DAG's folder. */
export function tsCallbackTarget(spec: string, dagFile: string): { file: string; name: string } {
  const m = TS_CALLBACK.exec(spec);
  if (!m?.groups) throw new TemplateError(`ts callback "${spec}" is not "file.ts:function"`);
  const folder = dirname(dagFile);
  const file = resolve(folder, m.groups.file!);
  const rel = relative(folder, file);
  if (rel.startsWith("..") || isAbsolute(rel))
    throw new TemplateError(`ts callback "${spec}" points outside the DAG file's folder (${folder}); keep the module beside the DAG`);
  return { file, name: m.groups.name! };
}

/** Runs the function; rejects with its stderr's end when it throws, exits non-zero or outlives `timeoutMs`. */
export async function runTsCallback(
  settings: TsCallbackSettings,
  target: { file: string; name: string },
  context: TsCallbackContext,
  timeoutMs: number,
): Promise<void> {
  const proc = Bun.spawn([...settings.command, "__run-callback", target.file, target.name], {
    stdin: new TextEncoder().encode(JSON.stringify(context)),
    stdout: "ignore",
    stderr: "pipe",
    env: settings.env,
    cwd: dirname(target.file),
    detached: true,
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void stopProcessGroup(proc.pid, 1000);
  }, timeoutMs);
  const stderr = new Response(proc.stderr).text();
  const code = await proc.exited;
  clearTimeout(timer);
  const tail = (await stderr).trim().slice(-STDERR_TAIL);
  const where = `${target.name} in ${target.file}`;
  if (timedOut) throw new Error(`ts callback ${where} did not return within ${timeoutMs / 1000}s and was stopped`);
  if (code !== 0) throw new Error(`ts callback ${where} failed (exit ${code})${tail ? `: ${tail}` : ""}`);
}
