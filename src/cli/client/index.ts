/**
 * The CLI client of a running server (`leoflow login`, `dags list|get|pause|unpause|trigger`, `runs`,
 * `tasks`, `variables`, `connections`, `pools`). main.ts loads this folder only when one of these commands
 * runs, so `leoflow agent` and `serve` never pay for it; it imports nothing outside itself (HTTP is fetch).
 *
 * Exit codes: 0 done, 1 the server said no (its `detail` is printed) or could not be reached, 2 bad usage.
 */
import { homedir } from "node:os";
import { HANDLERS } from "./commands";
import { InvalidServerUrl, credentialsPath, readCredentials, resolveTarget, resolveTeam } from "./credentials";
import { ApiClient, type FetchFn, ServerRefusal } from "./http";
import { login, logout } from "./login";
import { HelpRequested, type ParsedCommand, UsageError, parseCommand } from "./spec";

export { CLIENT_GROUPS } from "./spec";

export interface ClientIo {
  out(text: string): void;
  /** Resolves when everything given to out/err has reached the terminal or pipe (before main.ts exits). */
  flush?(): Promise<void>;
  err(text: string): void;
  env: Record<string, string | undefined>;
  home: string;
  /** Terminal width for tables; undefined when stdout is not a terminal. */
  columns: number | undefined;
  readStdin(): Promise<string>;
  askPassword: ((prompt: string) => Promise<string>) | null;
  fetch: FetchFn;
  sleep(ms: number): Promise<void>;
}

/** Runs one client command line (argv starts at the command, e.g. ["runs", "list", "etl"]); returns the exit code. */
export async function runClient(argv: readonly string[], io: ClientIo = processIo()): Promise<number> {
  const code = await run(argv, io);
  await io.flush?.();
  return code;
}

async function run(argv: readonly string[], io: ClientIo): Promise<number> {
  let cmd: ParsedCommand;
  try {
    cmd = parseCommand(argv);
  } catch (e) {
    if (e instanceof HelpRequested) return (io.out(e.text), 0);
    if (e instanceof UsageError) return usage(io, e);
    throw e;
  }
  const name = cmd.spec.name;
  let server: string | undefined;
  try {
    if (name === "login") return await login(cmd, io);
    if (name === "logout") return await logout(cmd, io);
    const creds = readCredentials(credentialsPath(io.env, io.home));
    const target = resolveTarget(cmd.server, io.env, creds);
    if (!target) throw new UsageError("which server? Pass --server URL, set LEOFLOW_SERVER, or run 'leoflow login --server URL'", "");
    server = target.server;
    const client = new ApiClient(target.server, target.token, io.fetch, resolveTeam(cmd.team, io.env, creds, target.server));
    return await HANDLERS[name]!({ cmd, client, out: io.out, err: io.err, columns: io.columns, sleep: io.sleep });
  } catch (e) {
    if (e instanceof UsageError) return usage(io, e, name);
    if (e instanceof InvalidServerUrl) return usage(io, new UsageError(e.message, ""), name);
    if (e instanceof ServerRefusal) {
      const hint = e.status === 401 ? `\n(log in again: leoflow login --server ${server ?? "URL"})` : "";
      io.err(`leoflow ${name}: ${e.detail}${hint}\n`);
      return 1;
    }
    io.err(`leoflow ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

function usage(io: ClientIo, e: UsageError, command?: string): number {
  const message = command && !e.message.startsWith(`${command}:`) ? `${command}: ${e.message}` : e.message;
  io.err(`leoflow: ${message}\n${e.usage ? `\n${e.usage}` : "Run 'leoflow help' for the commands.\n"}`);
  return 2;
}

/** The real process: stdout/stderr, the terminal (if any) for tables and the password prompt, global fetch. */
export function processIo(): ClientIo {
  const tty = process.stdout.isTTY === true;
  const envColumns = Number(process.env.COLUMNS);
  // Written in order through Bun.write, which finishes even into a full pipe; process.exit right after a
  // process.stdout.write would cut a long table short.
  let written: Promise<unknown> = Promise.resolve();
  // A reader that went away (`| head`) is not an error: the rest of the output has nowhere to go.
  const write = (sink: typeof Bun.stdout, text: string) =>
    void (written = written
      .then(() => Bun.write(sink, text))
      .catch((e) => {
        if ((e as NodeJS.ErrnoException).code !== "EPIPE") throw e;
      }));
  return {
    out: (t) => write(Bun.stdout, t),
    err: (t) => write(Bun.stderr, t),
    flush: async () => void (await written),
    env: process.env,
    home: homedir(),
    columns: Number.isInteger(envColumns) && envColumns > 0 ? envColumns : tty ? process.stdout.columns : undefined,
    readStdin: () => Bun.stdin.text(),
    askPassword: process.stdin.isTTY ? askPasswordOnTerminal : null,
    fetch: (input, init) => fetch(input, init),
    sleep: (ms) => Bun.sleep(ms),
  };
}

/** Reads one line from the terminal in raw mode, echoing nothing; Ctrl-C aborts. */
function askPasswordOnTerminal(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed = "";
    const done = (fn: () => void) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      fn();
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done(() => resolve(typed));
        if (ch === "\u0003") return done(() => reject(new Error("login cancelled")));
        if (ch === "\u007f" || ch === "\b") typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on("data", onData);
  });
}
