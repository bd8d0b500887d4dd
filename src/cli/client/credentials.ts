/**
 * Where the CLI client keeps its tokens: `$XDG_CONFIG_HOME/leoflow/credentials.json` (else
 * `~/.config/leoflow/…`), mode 0600 in a 0700 folder, one token per server plus the server last logged in to.
 * `LEOFLOW_SERVER` and `LEOFLOW_TOKEN` override the file, `--server` overrides both for the server; `--team`,
 * then `LEOFLOW_TEAM`, then the team stored with the token say which team the commands act in.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface StoredToken {
  token: string;
  username: string | null;
  /** The team `login --team` named: later commands act in it unless --team or LEOFLOW_TEAM says otherwise. */
  team?: string | null;
  saved_at: string;
}

export interface Credentials {
  /** The server `login` last stored a token for: used when neither --server nor LEOFLOW_SERVER says. */
  current_server: string | null;
  servers: Record<string, StoredToken>;
}

type Env = Record<string, string | undefined>;

export function credentialsPath(env: Env, home: string): string {
  const base = env.XDG_CONFIG_HOME?.trim() ? env.XDG_CONFIG_HOME : join(home, ".config");
  return join(base, "leoflow", "credentials.json");
}

export function readCredentials(path: string): Credentials {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { current_server: null, servers: {} };
    throw e;
  }
  let parsed: Partial<Credentials>;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON: delete it and run 'leoflow login' again`);
  }
  return { current_server: parsed.current_server ?? null, servers: parsed.servers ?? {} };
}

/** Writes through a temporary file created 0600, so the token is never readable by others, even for a moment. */
export function writeCredentials(path: string, creds: Credentials): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(creds, null, 2) + "\n", { mode: 0o600 });
  chmodSync(tmp, 0o600); // an existing tmp file keeps its mode through writeFileSync
  renameSync(tmp, path);
}

/** A --server, LEOFLOW_SERVER or stored server that is not an http(s) URL (a usage error: exit 2). */
export class InvalidServerUrl extends Error {}

/**
 * A server URL as the client stores and calls it: scheme added when missing (http://), no trailing slash.
 * Throws when it cannot be a URL.
 */
export function normalizeServer(raw: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new InvalidServerUrl(`"${raw}" is not a server URL; give one like http://127.0.0.1:8080`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new InvalidServerUrl(`"${raw}" is not an http(s) URL; give one like http://127.0.0.1:8080`);
  return url.toString().replace(/\/+$/, "");
}

export interface Target {
  server: string;
  token: string | null;
}

/** Which server to call and with what token: flag, then env, then the credentials file. Null when no server is known. */
export function resolveTarget(flagServer: string | undefined, env: Env, creds: Credentials): Target | null {
  const raw = flagServer ?? (env.LEOFLOW_SERVER?.trim() || undefined) ?? creds.current_server ?? undefined;
  if (!raw) return null;
  const server = normalizeServer(raw);
  const token = env.LEOFLOW_TOKEN?.trim() || creds.servers[server]?.token || null;
  return { server, token };
}

/**
 * The team to act in (sent as the Leoflow-Team header), or null to let the server choose the caller's own:
 * --team, then LEOFLOW_TEAM, then the team `login --team` stored with the token. The stored team goes with the
 * stored token only: with LEOFLOW_TOKEN (maybe another user's) it is not used.
 */
export function resolveTeam(flagTeam: string | undefined, env: Env, creds: Credentials, server: string): string | null {
  if (flagTeam) return flagTeam;
  const fromEnv = env.LEOFLOW_TEAM?.trim();
  if (fromEnv) return fromEnv;
  if (env.LEOFLOW_TOKEN?.trim()) return null;
  return creds.servers[server]?.team ?? null;
}
