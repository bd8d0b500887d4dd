/**
 * The config file layer: `leoflow.toml` (TOML, read with Bun's built-in parser) holding any `serve` flag as a
 * top-level key in snake_case (`dags_folder = "/srv/dags"`). It is the lowest layer but the defaults:
 * flags > LEOFLOW_* environment > file > defaults (config.ts applies the order). The file is `--config PATH`,
 * else LEOFLOW_CONFIG, else /etc/leoflow/leoflow.toml when it exists (what `leoflow install --systemd` writes).
 *
 * This module knows nothing of the flags themselves: config.ts passes its table, so the file, `leoflow config
 * example` and `serve --help` are generated from one list and cannot drift apart.
 */
import { existsSync, readFileSync } from "node:fs";
import { ValidationError, errorMessage } from "./domain";

export const DEFAULT_CONFIG_FILE = "/etc/leoflow/leoflow.toml";

/** Flag name → [type, env var, default, help], as config.ts's SERVE_FLAGS. */
export type FlagTable = Record<string, readonly ["string" | "number" | "boolean", string, unknown, string]>;

/** Keys a file may hold besides the flags: settings that are environment-only on the command line. */
export const FILE_ONLY_KEYS: FlagTable = {
  "admin-password": [
    "string",
    "LEOFLOW_ADMIN_PASSWORD",
    undefined,
    "the admin user's password; without it one is generated on first start and printed once",
  ],
};

/** Values from a file, keyed by flag name (kebab-case, as SERVE_FLAGS), typed as the flag expects. */
export type FileValues = Record<string, string | number | boolean>;

export interface ConfigFileLayer {
  /** The file read, or null when there was none to read. */
  path: string | null;
  values: FileValues;
}

export const tomlKey = (flag: string) => flag.replaceAll("-", "_");

/**
 * Parses a config file's text. Pure. Throws a ValidationError naming the file and each bad key with a fix:
 * unknown keys (with the nearest known one), values of the wrong type, and tables (the file is flat).
 *
 * @example parseConfigFile('port = 9000\ndags_folder = "/srv/dags"', "leoflow.toml", SERVE_FLAGS) // { port: 9000, "dags-folder": "/srv/dags" }
 */
export function parseConfigFile(text: string, source: string, flags: FlagTable): FileValues {
  let doc: Record<string, unknown>;
  try {
    doc = Bun.TOML.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new ValidationError(`${source}: not valid TOML: ${errorMessage(e)}; fix the syntax (key = "value", one per line)`);
  }
  const known: FlagTable = { ...flags, ...FILE_ONLY_KEYS };
  const values: FileValues = {};
  const issues: { path: string; message: string }[] = [];
  for (const [key, value] of Object.entries(doc)) {
    const name = key.replaceAll("_", "-");
    const spec = known[name];
    if (!spec) {
      const near = nearest(name, Object.keys(known));
      issues.push({
        path: `${source}: ${key}`,
        message: `is not a setting${near ? `; did you mean ${tomlKey(near)}?` : ""} ('leoflow config example' lists them all)`,
      });
      continue;
    }
    const typed = asFlagValue(spec[0], value);
    if (typed === undefined) issues.push({ path: `${source}: ${key}`, message: describeMismatch(spec[0], value) });
    else values[name] = typed;
  }
  if (issues.length) throw new ValidationError(issues.map((i) => `${i.path} ${i.message}`).join("\n"), issues);
  return values;
}

/**
 * Reads the config file: `explicit` (from --config or LEOFLOW_CONFIG) must exist; `fallback` (the default
 * path) is read only when it exists. No path at all: an empty layer.
 */
export function readConfigFile(explicit: string | undefined, fallback: string | null, flags: FlagTable): ConfigFileLayer {
  const path = explicit ?? (fallback !== null && existsSync(fallback) ? fallback : null);
  if (path === null) return { path: null, values: {} };
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "does not exist; pass --config with the file's path (or unset LEOFLOW_CONFIG)"
        : code === "EACCES"
          ? "is not readable by this user; run as the user the file belongs to (the service runs as leoflow) or fix its mode"
          : `could not be read: ${errorMessage(e)}`;
    throw new ValidationError(`config file ${path} ${why}`);
  }
  return { path, values: parseConfigFile(text, path, flags) };
}

/**
 * A documented leoflow.toml: every setting with its help, environment variable and default, commented out
 * unless `set` gives it a value. `leoflow config example` prints it; `leoflow install` writes it with secrets.
 */
export function renderConfigFile(flags: FlagTable, set: Record<string, string | number | boolean> = {}, header = EXAMPLE_HEADER): string {
  const rows = Object.entries({ ...flags, ...FILE_ONLY_KEYS }).map(([name, [, envName, def, help]]) => {
    const key = tomlKey(name);
    const lines = [`# ${help}`, `# env ${envName}${def === undefined ? "" : `; default ${tomlValue(def as string | number | boolean)}`}`];
    if (set[name] !== undefined) lines.push(`${key} = ${tomlValue(set[name])}`);
    else lines.push(def === undefined ? `# ${key} =` : `# ${key} = ${tomlValue(def as string | number | boolean)}`);
    return lines.join("\n");
  });
  return `${header}\n${rows.join("\n\n")}\n`;
}

const EXAMPLE_HEADER = `# leoflow.toml: the settings of 'leoflow serve'. Every key is a serve flag in snake_case (--dags-folder is
# dags_folder). Precedence: command-line flags > LEOFLOW_* environment > this file > defaults.
# 'leoflow config show' prints what a server would run with, secrets redacted. Generated by
# 'leoflow config example'. Keep this file mode 0600 when it holds secrets.
`;

/** A TOML value: strings as basic strings (JSON's escapes are TOML's, but for DEL), numbers, booleans. */
export function tomlValue(v: string | number | boolean): string {
  return typeof v === "string" ? JSON.stringify(v).replaceAll("\x7f", "\\u007f") : String(v);
}

/** A TOML value as the flag's type: numbers for string flags become text ("1" CPU), arrays of strings join with commas. */
function asFlagValue(type: "string" | "number" | "boolean", value: unknown): string | number | boolean | undefined {
  if (type === "number") return typeof value === "number" ? value : undefined;
  if (type === "boolean") return typeof value === "boolean" ? value : undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.join(",");
  return undefined;
}

function describeMismatch(type: "string" | "number" | "boolean", value: unknown): string {
  const got = value !== null && typeof value === "object" && !Array.isArray(value) ? "a table" : JSON.stringify(value);
  if (got === "a table") return "is a table, but settings sit at the top level of the file (no [sections])";
  if (type === "number") return `expects a number (no quotes), got ${got}`;
  if (type === "boolean") return `expects true or false (no quotes), got ${got}`;
  return `expects a string in quotes, got ${got}`;
}

/** The known name closest to `name` (edit distance at most 3), for "did you mean". */
function nearest(name: string, names: string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const n of names) {
    const d = editDistance(name, n);
    if (d <= 3 && (!best || d < best.d)) best = { name: n, d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** The settings whose values differ between two configs (SIGHUP says which of them wait for a restart). */
export function changedSettings(prev: object, next: object): string[] {
  const a = prev as Record<string, unknown>;
  const b = next as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}
