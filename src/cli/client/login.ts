/**
 * `leoflow login` and `leoflow logout`: trade a username and password for a token (POST /auth/token) and
 * keep it in the credentials file, or forget it. The password comes from standard input (--password-stdin)
 * or a prompt that does not echo; never from an argument, where `ps` and shell history would see it.
 * `login --team T` keeps T with the token, after asking the server (GET /api/v2/leoflow/me) that the user may
 * act in it: a team they have no role in is refused now, with the server's own 404, not at the next command.
 */
import { type Credentials, credentialsPath, normalizeServer, readCredentials, writeCredentials } from "./credentials";
import { ApiClient, type FetchFn } from "./http";
import { type ParsedCommand, UsageError, shortUsage } from "./spec";

export interface LoginIo {
  out(text: string): void;
  env: Record<string, string | undefined>;
  home: string;
  readStdin(): Promise<string>;
  /** Asks on the terminal without echo; null when there is no terminal to ask on. */
  askPassword: ((prompt: string) => Promise<string>) | null;
  fetch: FetchFn;
}

function serverOf(cmd: ParsedCommand, io: LoginIo, creds: Credentials): string {
  const raw = cmd.server ?? (io.env.LEOFLOW_SERVER?.trim() || undefined) ?? creds.current_server ?? undefined;
  if (!raw) throw new UsageError(`${cmd.spec.name}: which server? Pass --server URL (or set LEOFLOW_SERVER)`, shortUsage(cmd.spec));
  try {
    return normalizeServer(raw);
  } catch (e) {
    throw new UsageError(`${cmd.spec.name}: ${(e as Error).message}`, shortUsage(cmd.spec));
  }
}

export async function login(cmd: ParsedCommand, io: LoginIo): Promise<number> {
  const path = credentialsPath(io.env, io.home);
  const creds = readCredentials(path);
  const server = serverOf(cmd, io, creds);
  const username = (cmd.options.username as string | undefined) ?? "admin";
  let password: string;
  if (cmd.options["password-stdin"]) password = (await io.readStdin()).replace(/\r?\n$/, "");
  else if (io.askPassword) password = await io.askPassword(`Password for ${username} at ${server}: `);
  else throw new UsageError("login: no terminal to ask for the password on; pipe it in with --password-stdin", shortUsage(cmd.spec));
  if (!password) throw new UsageError("login: the password is empty", shortUsage(cmd.spec));

  const res = await new ApiClient(server, null, io.fetch).request("POST", "/auth/token", { body: { username, password } });
  const token = res.json?.access_token;
  if (typeof token !== "string" || !token)
    throw new Error(`${server}/auth/token answered ${res.status} without an access_token; is ${server} a Leoflow server?`);
  const team = cmd.team ?? null;
  const me = team ? (await new ApiClient(server, token, io.fetch, team).request("GET", "/api/v2/leoflow/me")).json : undefined;
  creds.servers[server] = { token, username, ...(team ? { team } : {}), saved_at: new Date().toISOString() };
  creds.current_server = server;
  writeCredentials(path, creds);
  if (cmd.output === "json") io.out(`${JSON.stringify({ server, username, ...(team ? { team } : {}), credentials_file: path })}\n`);
  else {
    const acting = team ? ` in team ${team}${typeof me?.role === "string" ? ` (${me.role})` : ""}` : "";
    io.out(`logged in to ${server} as ${username}${acting}; token saved in ${path}\n`);
  }
  return 0;
}

export async function logout(cmd: ParsedCommand, io: LoginIo): Promise<number> {
  const path = credentialsPath(io.env, io.home);
  const creds = readCredentials(path);
  const server = serverOf(cmd, io, creds);
  const had = server in creds.servers;
  delete creds.servers[server];
  if (creds.current_server === server) creds.current_server = null;
  if (had) writeCredentials(path, creds);
  io.out(had ? `logged out of ${server}; its token is removed from ${path}\n` : `no token stored for ${server}; nothing to do\n`);
  return 0;
}
