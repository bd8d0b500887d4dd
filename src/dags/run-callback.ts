/**
 * The body of the hidden `leoflow __run-callback FILE EXPORT` subcommand: the callback runner spawns it for
 * a `{ ts: "file.ts:export" }` callback, so a DAG author's function runs in a child process, never in the
 * server. It imports FILE (with `leoflow/sdk` resolvable, as DAG files are), calls the named export with
 * the callback context read as JSON from stdin, and exits 0 when the function returns (or its promise
 * resolves), 1 with the reason on stderr otherwise.
 */
import { errorMessage } from "../domain";
import { registerSdkPlugin } from "./ts-plugin";

export async function runCallbackFunction(file: string, exportName: string, stdin: string): Promise<number> {
  let context: unknown;
  try {
    context = JSON.parse(stdin || "{}");
  } catch {
    return fail("the callback context on stdin is not JSON");
  }
  try {
    registerSdkPlugin();
    const mod = (await import(file)) as Record<string, unknown>;
    const fn = mod[exportName];
    if (typeof fn !== "function")
      return fail(
        `${file} has no exported function "${exportName}" (exports: ${Object.keys(mod).join(", ") || "none"}); write export function ${exportName}(context) { … }`,
      );
    await fn(context);
    return 0;
  } catch (e) {
    return fail(e instanceof Error && e.stack ? e.stack : errorMessage(e));
  }
}

function fail(message: string): number {
  process.stderr.write(`${message}\n`);
  return 1;
}
