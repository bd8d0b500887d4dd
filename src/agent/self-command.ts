/**
 * How to re-invoke this leoflow program (for `ts` tasks: `leoflow run-ts …`). Verified with a tiny
 * `bun build --compile`: in a compiled binary `Bun.main` is "/$bunfs/root/<name>" (on Windows "B:/~BUN/…")
 * and `process.execPath` is the binary itself; under `bun src/main.ts` execPath is the bun runtime, which
 * then needs the script path.
 */
import { fileURLToPath } from "node:url";
import { isCompiledMain } from "../domain/compiled-binary";

export function isCompiledBinary(main: string = Bun.main): boolean {
  return isCompiledMain(main);
}

/** Absolute path of src/main.ts (this file lives in src/agent/). */
export function mainScriptPath(): string {
  return fileURLToPath(new URL("../main.ts", import.meta.url));
}

/** argv prefix that runs this leoflow program: `[binary]` when compiled, `[bun, /abs/src/main.ts]` otherwise. */
export function selfCommand(main: string = Bun.main, execPath: string = process.execPath): string[] {
  return isCompiledBinary(main) ? [execPath] : [execPath, mainScriptPath()];
}
