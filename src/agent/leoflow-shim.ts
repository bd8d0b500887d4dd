/**
 * Puts `leoflow` on the task's PATH: a per-try folder holding a link to this very program (or, run from
 * source, a two-line script), so `leoflow task var get KEY` works inside any task even where the binary is
 * not installed on PATH (a container mounts it at /leoflow/leoflow; a server may run from dist/ or source).
 */
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { selfCommand } from "./self-command";

const shQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Creates `<dir>/leoflow` and returns `dir`, the folder to put first on PATH. */
export async function writeLeoflowShim(dir: string, self: string[] = selfCommand()): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, "leoflow");
  const [binary, ...args] = self;
  if (binary && !args.length) await symlink(binary, path);
  else await writeFile(path, `#!/bin/sh\nexec ${self.map(shQuote).join(" ")} "$@"\n`, { mode: 0o755 });
  return dir;
}
