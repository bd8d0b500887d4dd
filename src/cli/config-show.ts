/**
 * `leoflow config show [serve flags]`: the configuration `leoflow serve` would run with, given the same
 * flags, environment and config file, as a leoflow.toml (each line says where its value came from), secrets
 * redacted. `leoflow config example`: every setting, documented, with its default.
 *
 * @example leoflow config show --config /etc/leoflow/leoflow.toml
 */
import { parseArgs } from "node:util";
import { redactUrl } from "../domain";
import type { CliIo } from "./secrets";
import { UsageError } from "./secrets";

export const CONFIG_USAGE = "config show [--config PATH] [serve flags] | config example";

/** Settings never printed: they sign tokens, decrypt secrets or log in as admin. */
export const SECRET_SETTINGS = new Set(["jwt-secret", "jwt-previous-secrets", "secrets-key", "admin-password"]);

export async function configCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  // Loaded here, not at the top: `leoflow users` and `secrets` share cli/index.ts and need none of it.
  const [{ SERVE_FLAGS, loadServeConfig }, { DEFAULT_CONFIG_FILE, FILE_ONLY_KEYS, readConfigFile, renderConfigFile, tomlKey, tomlValue }] =
    await Promise.all([import("../config"), import("../config-file")]);
  if (sub === "example" && rest.length === 0) {
    io.out(renderConfigFile(SERVE_FLAGS));
    return 0;
  }
  if (sub !== "show") throw new UsageError(CONFIG_USAGE);
  const cfg = loadServeConfig(rest, io.env, DEFAULT_CONFIG_FILE) as unknown as Record<string, unknown>;
  const options = Object.fromEntries(
    [...Object.entries(SERVE_FLAGS), ["config", ["string"]] as const].map(([name, [type]]) => [
      name,
      // --dags-folder repeats (TEAM=PATH per team); shown as the comma-separated value env and file take.
      { type: type === "boolean" ? ("boolean" as const) : ("string" as const), multiple: name === "dags-folder" },
    ]),
  );
  const { values: flags } = parseArgs({ args: rest, options, strict: true });
  const file = readConfigFile((flags.config as string | undefined) ?? io.env.LEOFLOW_CONFIG, DEFAULT_CONFIG_FILE, SERVE_FLAGS);

  const lines = [
    "# The effective configuration of 'leoflow serve' with these flags and this environment.",
    `# Config file: ${file.path ?? `none (${DEFAULT_CONFIG_FILE} does not exist; --config PATH names one)`}`,
    "# Precedence: flag > env > file > default; secrets are redacted.",
  ];
  for (const [name, [type, envName, def]] of Object.entries({ ...SERVE_FLAGS, ...FILE_ONLY_KEYS })) {
    const key = tomlKey(name);
    const [source, raw] =
      flags[name] !== undefined
        ? ["flag", Array.isArray(flags[name]) ? flags[name].join(",") : flags[name]]
        : io.env[envName] !== undefined
          ? [`env ${envName}`, io.env[envName]]
          : file.values[name] !== undefined
            ? ["file", file.values[name]]
            : def !== undefined
              ? ["default", def]
              : ["derived", cfg[key]];
    // Numbers and booleans as serve parsed them; strings as given ("4Mi" rather than the bytes it means).
    const shown = type === "string" ? raw : cfg[key];
    const value = shown === undefined || (typeof shown === "object" && shown !== null) ? undefined : (shown as string | number | boolean);
    if (value === undefined) lines.push(`# ${key} = (unset)`);
    else if (SECRET_SETTINGS.has(name)) lines.push(`${key} = "<redacted>"  # ${source}`);
    else if (name === "db") lines.push(`${key} = ${tomlValue(redactUrl(String(value)))}  # ${source}`);
    else lines.push(`${key} = ${tomlValue(value)}  # ${source}`);
  }
  io.out(`${lines.join("\n")}\n`);
  return 0;
}
