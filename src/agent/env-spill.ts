/**
 * Values too large for a process's environment, moved to files. Linux refuses to start a process when one
 * `NAME=value` string is over 128 KiB (MAX_ARG_STRLEN) or the environment and arguments together pass ARG_MAX
 * (a quarter of the stack limit, 2 MiB by default): spawn fails with E2BIG. An upstream's return value (up to
 * --xcom-max-bytes, 1 MiB), a run's conf (up to --api-max-body) or a variable read by env_from can be that
 * large, and then every downstream task failed, the ones that never read the value too. A value past the limit
 * goes to a file in the try's folder instead: `NAME` is left out and `NAME_FILE` holds the file's path (the
 * `_FILE` convention of Docker's secrets), and the try's log says so. spillLargeEnv decides (pure);
 * writeSpilledEnv writes the files, readable by the task's user only.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** Linux's MAX_ARG_STRLEN: the longest one `NAME=value` string may be, its NUL included. */
export const MAX_ENV_STRING_BYTES = 128 * 1024;
/** What the environment and the arguments may take together here, well under the 2 MiB of ARG_MAX's default. */
export const MAX_ENV_TOTAL_BYTES = 1024 * 1024;

export interface EnvSpill {
  /** The environment to start the process with. */
  env: Record<string, string>;
  /** Files to write before the spawn (path → content), one per moved variable. */
  files: Map<string, string>;
  /** What was moved, for the try's log. */
  moved: { name: string; bytes: number; path: string }[];
}

const entryBytes = (name: string, value: string) => Buffer.byteLength(name) + 1 + Buffer.byteLength(value) + 1;

/**
 * Moves each variable whose entry is over MAX_ENV_STRING_BYTES to a file under `dir`, then the largest of the
 * rest until the environment and `argv` fit MAX_ENV_TOTAL_BYTES. A variable named `X_FILE` is never replaced
 * by ours: such a variable keeps its own name and the value's file is `X_FILE` only when that name is free.
 *
 * @example spillLargeEnv({ LEOFLOW_XCOM_A: "x".repeat(200_000) }, ["bash", "-c", "true"], "/tmp/t")
 *   // env { LEOFLOW_XCOM_A_FILE: "/tmp/t/env/LEOFLOW_XCOM_A" }, files: that path → the value
 */
export function spillLargeEnv(env: Record<string, string>, argv: readonly string[], dir: string): EnvSpill {
  const out = { ...env };
  const files = new Map<string, string>();
  const moved: EnvSpill["moved"] = [];
  let total = argv.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
  const sizes = Object.entries(out).map(([name, value]) => ({ name, bytes: entryBytes(name, value) }));
  for (const s of sizes) total += s.bytes;
  const move = (name: string, bytes: number): boolean => {
    const fileVar = `${name}_FILE`;
    if (fileVar in out) return false;
    const path = join(dir, "env", name);
    files.set(path, out[name]!);
    delete out[name];
    out[fileVar] = path;
    total += entryBytes(fileVar, path) - bytes;
    moved.push({ name, bytes: bytes - Buffer.byteLength(name) - 2, path });
    return true;
  };
  for (const s of sizes) if (s.bytes > MAX_ENV_STRING_BYTES) move(s.name, s.bytes);
  const rest = sizes.filter((s) => s.name in out).sort((a, b) => b.bytes - a.bytes);
  for (const s of rest) {
    if (total <= MAX_ENV_TOTAL_BYTES) break;
    // Small ones are not worth a file: they cannot be why the environment is too large.
    if (s.bytes < 4096) break;
    move(s.name, s.bytes);
  }
  return { env: out, files, moved };
}

/** The try's log line for one moved variable. */
export function spillNote(m: EnvSpill["moved"][number]): string {
  return `$${m.name} is ${m.bytes.toLocaleString("en-US")} bytes, more than a process's environment may hold (Linux: 128 KiB a variable, 2 MiB in all): it is in the file named by $${m.name}_FILE instead (${m.path})`;
}

/** Writes the moved values (owner-only: a variable read by env_from may be a secret). */
export async function writeSpilledEnv(files: ReadonlyMap<string, string>): Promise<void> {
  for (const [path, content] of files) {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, content, { mode: 0o600 });
  }
}
