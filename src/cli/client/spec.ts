/**
 * The client commands as data (name, arguments, options, one line of help) and the pure parse of a command
 * line against them. What each command does lives in commands.ts; this file only says what may be typed.
 *
 * @example parseCommand(["dags", "trigger", "etl", "--conf", "{}"]) // { name: "dags trigger", args: { DAG: "etl" }, … }
 */
import { parseArgs } from "node:util";

export interface OptionSpec {
  type: "string" | "boolean";
  /** Placeholder shown in help for a string option. */
  value?: string;
  short?: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  /** Positional arguments in order; a trailing "?" marks an optional one. */
  args: readonly string[];
  options?: Record<string, OptionSpec>;
  summary: string;
}

export type OutputFormat = "table" | "json";

export interface ParsedCommand {
  spec: CommandSpec;
  args: Record<string, string | undefined>;
  options: Record<string, string | boolean | undefined>;
  server: string | undefined;
  /** --team: the team to act in (sent as the Leoflow-Team header). */
  team: string | undefined;
  output: OutputFormat;
}

/** A command line the client cannot run as typed: exit 2 with this message and the usage. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

/** `--help` was asked for: print `text`, exit 0. */
export class HelpRequested {
  constructor(readonly text: string) {}
}

const COMMON: Record<string, OptionSpec> = {
  server: { type: "string", value: "URL", help: "the server (default: LEOFLOW_SERVER, else the one you last logged in to)" },
  team: {
    type: "string",
    value: "TEAM",
    help: "the team to act in (default: LEOFLOW_TEAM, else the one 'login --team' kept, else your own); login keeps it with the token",
  },
  output: { type: "string", value: "table|json", short: "o", help: "table (default) or the API's JSON as it came" },
  help: { type: "boolean", short: "h", help: "this help" },
};

const limit: OptionSpec = { type: "string", value: "N", help: "show at most N (the server's default page otherwise)" };
const offset: OptionSpec = { type: "string", value: "N", help: "skip the first N" };

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "login",
    args: [],
    options: {
      username: { type: "string", value: "NAME", short: "u", help: "who to log in as (default admin)" },
      "password-stdin": { type: "boolean", help: "read the password from standard input (else it is asked for on the terminal)" },
    },
    summary: "log in to a server and keep its token in ~/.config/leoflow/credentials.json",
  },
  { name: "logout", args: [], summary: "forget the stored token of a server" },
  { name: "dags list", args: [], options: { limit, offset }, summary: "the server's DAGs ('dags list PATH' lists local files)" },
  { name: "dags get", args: ["DAG"], summary: "one DAG" },
  { name: "dags pause", args: ["DAG"], summary: "stop scheduling new runs of a DAG" },
  { name: "dags unpause", args: ["DAG"], summary: "schedule a DAG again" },
  {
    name: "dags trigger",
    args: ["DAG"],
    options: {
      conf: { type: "string", value: "JSON", help: "the run's conf, a JSON object" },
      "run-id": { type: "string", value: "ID", help: "the run's id (default: one the server makes up)" },
      "logical-date": { type: "string", value: "ISO", help: "the run's logical date (default: none)" },
      note: { type: "string", value: "TEXT", help: "a note on the run" },
    },
    summary: "start a run of a DAG now",
  },
  {
    name: "runs list",
    args: ["DAG"],
    options: { state: { type: "string", value: "STATE", help: "only runs in STATE (queued, running, success, failed)" }, limit, offset },
    summary: "a DAG's runs ('~' for every DAG)",
  },
  { name: "runs get", args: ["DAG", "RUN"], summary: "one run" },
  {
    name: "runs clear",
    args: ["DAG", "RUN"],
    options: {
      "only-failed": { type: "boolean", help: "clear only the failed task instances" },
      "dry-run": { type: "boolean", help: "show what would be cleared, change nothing" },
    },
    summary: "run a run's task instances again",
  },
  { name: "tasks list", args: ["DAG", "RUN"], summary: "the task instances of a run" },
  {
    name: "tasks logs",
    args: ["DAG", "RUN", "TASK"],
    options: {
      try: { type: "string", value: "N", help: "which try (default: the latest)" },
      follow: { type: "boolean", short: "f", help: "keep printing new lines until the try ends" },
    },
    summary: "a task instance's log",
  },
  { name: "variables list", args: [], options: { limit, offset }, summary: "all variables (secret ones masked)" },
  { name: "variables get", args: ["KEY"], summary: "one variable" },
  {
    name: "variables set",
    args: ["KEY", "VALUE"],
    options: { description: { type: "string", value: "TEXT", help: "what the variable is for" } },
    summary: "create or replace a variable",
  },
  { name: "variables delete", args: ["KEY"], summary: "delete a variable" },
  { name: "connections list", args: [], options: { limit, offset }, summary: "all connections (passwords masked)" },
  { name: "connections get", args: ["CONN_ID"], summary: "one connection" },
  {
    name: "connections add",
    args: ["CONN_ID"],
    options: {
      "conn-uri": { type: "string", value: "URI", help: "all fields as one URI: TYPE://LOGIN:PASSWORD@HOST:PORT/SCHEMA?extra=…" },
      "conn-type": { type: "string", value: "TYPE", help: "e.g. postgres, http (required without --conn-uri)" },
      "conn-host": { type: "string", value: "HOST", help: "host name or address" },
      "conn-port": { type: "string", value: "PORT", help: "port number" },
      "conn-login": { type: "string", value: "LOGIN", help: "user name" },
      "conn-password": { type: "string", value: "PASSWORD", help: "password (stored encrypted, shown as ***)" },
      "conn-schema": { type: "string", value: "SCHEMA", help: "schema or database" },
      "conn-extra": { type: "string", value: "JSON", help: "extra fields, a JSON object" },
      "conn-description": { type: "string", value: "TEXT", help: "what the connection is for" },
    },
    summary: "create a connection",
  },
  { name: "connections delete", args: ["CONN_ID"], summary: "delete a connection" },
  { name: "pools list", args: [], options: { limit, offset }, summary: "all pools and their slots in use" },
  {
    name: "pools set",
    args: ["NAME", "SLOTS"],
    options: {
      description: { type: "string", value: "TEXT", help: "what the pool is for" },
      "include-deferred": { type: "boolean", help: "count deferred tasks as occupying slots" },
    },
    summary: "create a pool or change its slots (-1: unlimited)",
  },
  { name: "pools delete", args: ["NAME"], summary: "delete a pool" },
  { name: "webhooks list", args: [], summary: "the team's webhooks" },
  {
    name: "webhooks create",
    args: ["URL"],
    options: {
      events: { type: "string", value: "LIST", help: "comma-separated event types, or * for all (required)" },
      dags: { type: "string", value: "LIST", help: "comma-separated DAG ids (default: every DAG)" },
      secret: { type: "string", value: "SECRET", help: "the HMAC key receivers verify X-Leoflow-Signature with (required)" },
      description: { type: "string", value: "TEXT", help: "what the webhook is for" },
    },
    summary: "send events to URL, signed (docs/webhooks.md)",
  },
  { name: "webhooks delete", args: ["ID"], summary: "delete a webhook and its deliveries" },
];

/** The command groups that belong to the client (main.ts sends these here). */
export const CLIENT_GROUPS = new Set(COMMANDS.map((c) => c.name.split(" ")[0]!));

/** Parses `argv` (starting at the command's first word) against COMMANDS. Throws UsageError or HelpRequested. */
export function parseCommand(argv: readonly string[]): ParsedCommand {
  const [group = "", action] = argv;
  const single = COMMANDS.find((c) => c.name === group);
  const spec = single ?? COMMANDS.find((c) => c.name === `${group} ${action}`);
  if (!spec) {
    const actions = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
    if (!actions.length) throw new UsageError(`unknown command "${group}"`, "");
    const help = groupHelp(group);
    if (action === undefined || action === "--help" || action === "-h") {
      if (action) throw new HelpRequested(help);
      throw new UsageError(`${group}: say what to do`, help);
    }
    throw new UsageError(`${group}: unknown action "${action}"`, help);
  }
  const rest = argv.slice(spec.name.split(" ").length);
  const options = { ...COMMON, ...spec.options };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    // A negative number is a value ("pools set p1 -1": unlimited), never an option (no option is a digit), but
    // strict parseArgs refuses it as an unknown one: it goes through hidden behind NUL and is given back below.
    const args = rest.map((a) => (NEGATIVE_NUMBER.test(a) ? `\0${a}` : a));
    parsed = parseArgs({ args, options: options as any, allowPositionals: true, strict: true });
    parsed.positionals = parsed.positionals.map(unhide);
    for (const [k, v] of Object.entries(parsed.values)) parsed.values[k] = typeof v === "string" ? unhide(v) : v;
  } catch (e) {
    throw new UsageError(
      `${spec.name}: ${e instanceof Error ? e.message.replace(/\. To specify a positional.*$/s, "") : String(e)}`,
      shortUsage(spec),
    );
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) throw new HelpRequested(commandHelp(spec));
  const required = spec.args.filter((a) => !a.endsWith("?"));
  if (parsed.positionals.length < required.length)
    throw new UsageError(`${spec.name}: missing ${required.slice(parsed.positionals.length).join(" ")}`, shortUsage(spec));
  if (parsed.positionals.length > spec.args.length)
    throw new UsageError(`${spec.name}: unexpected argument "${parsed.positionals[spec.args.length]}"`, shortUsage(spec));
  const output = values.output ?? "table";
  if (output !== "table" && output !== "json")
    throw new UsageError(`${spec.name}: --output must be table or json, not "${output}"`, shortUsage(spec));
  const args = Object.fromEntries(spec.args.map((a, i) => [a.replace(/\?$/, ""), parsed.positionals[i]]));
  const { server, team, output: _output, help: _help, ...own } = values;
  if (team !== undefined && !String(team).trim())
    throw new UsageError(`${spec.name}: --team is empty; name a team (the server's admins list them)`, shortUsage(spec));
  return {
    spec,
    args,
    options: own,
    server: server as string | undefined,
    team: team === undefined ? undefined : String(team).trim(),
    output,
  };
}

const NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;
const unhide = (a: string) => (a.startsWith("\0") ? a.slice(1) : a);

function usageLine(spec: CommandSpec): string {
  const opts = Object.entries(spec.options ?? {}).map(([name, o]) => (o.type === "boolean" ? `[--${name}]` : `[--${name} ${o.value}]`));
  return ["leoflow", spec.name, ...spec.args.map((a) => (a.endsWith("?") ? `[${a.slice(0, -1)}]` : a)), ...opts].join(" ");
}

function optionLines(options: Record<string, OptionSpec>): string {
  return Object.entries(options)
    .map(([name, o]) => {
      const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` ${o.value}` : ""}`;
      return `  ${flag.padEnd(30)} ${o.help}\n`;
    })
    .join("");
}

/** What a usage error shows under its message: the command's usage line and where the rest is. */
export function shortUsage(spec: CommandSpec): string {
  return `${usageLine(spec)}\nRun 'leoflow ${spec.name} --help' for what each option does.\n`;
}

export function commandHelp(spec: CommandSpec): string {
  return `${usageLine(spec)}\n\n${spec.summary}.\n\nOptions:\n${optionLines({ ...spec.options, ...COMMON })}${EXIT_CODES}`;
}

/** Commands of a group that main.ts runs without a server, named in the group's help. */
const LOCAL_COMMANDS: Record<string, string> = {
  dags: "  leoflow dags validate PATH\n      check local DAG files (no server)\n  leoflow dags list PATH\n      the DAGs in local files (no server)\n",
};

export function groupHelp(group: string): string {
  const lines = COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map((c) => `  ${usageLine(c)}\n      ${c.summary}\n`);
  return `leoflow ${group} — commands:\n${lines.join("")}${LOCAL_COMMANDS[group] ?? ""}\nEvery command takes --server URL, --team TEAM, --output table|json and --help.\n${EXIT_CODES}`;
}

const EXIT_CODES = "\nExit codes: 0 done, 1 the server said no (its reason is printed) or could not be reached, 2 bad usage.\n";
