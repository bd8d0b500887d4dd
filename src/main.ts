#!/usr/bin/env bun
/**
 * The leoflow command line: one binary that is the server (`serve`), the task-side agent (`agent`), and a
 * few tools (`dags validate`, `db migrate`, `version`), and a client of a running server (`login`, `dags list`,
 * `runs`, `tasks logs`, …: src/cli/client). Exit codes: 0 ok, 1 failure, 2 bad usage.
 */
// Only light modules load eagerly: `leoflow agent` starts once per task, so everything else (zod schemas,
// hono, the stores) is imported by the command that needs it.
import { parseArgs } from "./args";
import { ValidationError, toError } from "./domain/errors";
import { createLogger } from "./observability/logger";
import { VERSION, versionText } from "./version";
import type { ServeConfig } from "./config";

const HELP = `leoflow ${VERSION} — workflow orchestrator (Airflow-style DAGs, one binary)

Usage:
  leoflow serve [flags]              run the scheduler, API, UI and agent RPC (see 'leoflow serve --help')
  leoflow dags validate PATH...      check DAG files (files or folders); exit 1 when any is invalid
  leoflow dags list PATH...          list the DAGs defined in the files under each PATH (no server needed)
  leoflow db migrate [--db URL | --data-dir DIR | --config PATH]
                                     apply database migrations (serve also does this at start)
  leoflow secrets rotate [--db URL] --old-key K1 --new-key K2
                                     re-encrypt connection passwords/extras and secret variables under a new
                                     key, in one transaction (keys also from LEOFLOW_SECRETS_KEY and
                                     LEOFLOW_SECRETS_NEW_KEY, or Lite's --data-dir key file); then restart
                                     every server with the new key
  leoflow users create USERNAME --role ROLE [--password P | --password-stdin] [--db URL]
                                     add an API user (ROLE: Admin, Op, User or Viewer; no password:
                                     one is generated and printed once)
  leoflow users list|delete USERNAME|reset-password USERNAME [--db URL]
                                     list users; delete one (never the last Admin); set a new password
  leoflow users grant USERNAME --team TEAM --role ROLE | revoke USERNAME --team TEAM [--db URL]
                                     give a user a role in a team (or take it away); a role per team
  leoflow teams create|set NAME [--max-running-tasks N] [--max-pool-slots N] [--max-inline-requests N]
                [--executor-policy JSON] [--description D] [--db URL]
                                     add or change a team (tenant) and its quotas; each gets a default_pool
  leoflow teams list | delete NAME [--db URL]
                                     list teams; delete one that owns no DAGs (never "default")
  leoflow agent --server URL         run one task instance (started by executors; token in LEOFLOW_AGENT_TOKEN)
  leoflow task var get KEY | conn get ID [--field F | --json]
                                     inside a running task: a variable or connection of its team (secrets
                                     printed this way are masked as *** in the task's log)
  leoflow config show [serve flags]  the effective configuration (flags > LEOFLOW_* env > config file > defaults),
                                     secrets redacted; 'config example' prints a documented leoflow.toml
  leoflow db backup PATH [--db URL]  copy a SQLite store to PATH, consistent while the server runs
  leoflow install --systemd [--root DIR]
                                     install as a systemd service: leoflow user, /var/lib/leoflow,
                                     /etc/leoflow/leoflow.toml (generated secrets), leoflow.service
  leoflow version                    print the version, commit and build date
  leoflow help                       this text

Client of a running server (every command takes --server URL, --team TEAM, --output table|json and --help):
  leoflow login --server URL [--username U] [--team TEAM] [--password-stdin]
                                     log in; the token is kept in ~/.config/leoflow/credentials.json
                                     (LEOFLOW_SERVER and LEOFLOW_TOKEN override it)
  leoflow logout                     forget the token
  leoflow dags list | get DAG | pause DAG | unpause DAG
                                     the server's DAGs ('dags list' without PATH)
  leoflow dags trigger DAG [--conf JSON] [--run-id ID]
  leoflow runs list DAG | get DAG RUN | clear DAG RUN
  leoflow tasks list DAG RUN | logs DAG RUN TASK [--try N] [--follow]
  leoflow variables list | get KEY | set KEY VALUE | delete KEY
  leoflow connections list | get ID | add ID (--conn-uri URI | --conn-type T …) | delete ID
  leoflow pools list | set NAME SLOTS | delete NAME
  leoflow webhooks list | create URL --events LIST --secret S [--dags LIST] | delete ID
                                     exit 1 when the server says no (its reason is printed)

Quick start:
  leoflow serve --dags-folder ./dags        then open http://127.0.0.1:8080
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const help = await localHelp(command, rest);
  if (help !== null) {
    process.stdout.write(help);
    return 0;
  }
  switch (command) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(HELP);
      return 0;
    case "version":
    case "--version":
      process.stdout.write(versionText());
      return 0;
    case "serve":
      return serve(rest);
    case "agent":
      return agent(rest);
    case "task": {
      // Inside a running task: its team's variables and connections, with the try's token.
      const { runTaskCommand } = await import("./agent");
      return runTaskCommand(rest, {
        env: process.env,
        out: (t) => void process.stdout.write(t),
        err: (t) => void process.stderr.write(t),
      });
    }
    case "run-ts": {
      const [file, taskId, dagId] = rest;
      if (!file || !taskId || !dagId) return usage("run-ts FILE TASK_ID DAG_ID (internal: the agent runs ts tasks with it)");
      const { runTsTask } = await import("./dags");
      return runTsTask(file, taskId, dagId);
    }
    case "__run-callback": {
      // Internal: the callback runner calls a DAG's ts callback in a child running this (src/dags/run-callback.ts).
      const [file, exportName] = rest;
      if (!file || !exportName) return usage("__run-callback FILE EXPORT (internal: the server runs ts callbacks with it)");
      const { runCallbackFunction } = await import("./dags");
      return runCallbackFunction(file, exportName, await Bun.stdin.text());
    }
    case "__parse-dags": {
      // Internal: the server and `dags validate` parse DAG files in a child running this (see src/dags/parse-worker.ts).
      const { runParseWorker } = await import("./dags");
      return runParseWorker(rest);
    }
    case "dags":
      return isLocalDagsCommand(rest) ? dags(rest) : client(argv);
    case "login":
    case "logout":
    case "runs":
    case "tasks":
    case "variables":
    case "connections":
    case "pools":
    case "webhooks":
      return client(argv);
    case "db":
      return db(rest);
    case "secrets":
      return secrets(rest);
    case "users":
      return users(rest);
    case "teams":
      return cliCommand("teams", async (cli) => cli.teamsCommand(rest, cliIo()));
    case "config":
      return configCommand(rest);
    case "install":
      return install(rest);
    default:
      return usage(`unknown command "${command}"`);
  }
}

const AGENT_USAGE = `agent --server URL [--token TOKEN] | agent --warm
  Runs one task instance try next to the task's process (executors start it; the token also comes from
  LEOFLOW_AGENT_TOKEN, the server from LEOFLOW_SERVER); --warm takes tries on stdin (the agent pool).`;
const DB_MIGRATE_USAGE = "db migrate [--db URL | --data-dir DIR | --config PATH] (the store serve would open)";
const DAGS_LOCAL_USAGE = "dags validate PATH... | dags list PATH... (DAG files or folders, read here; no server)";

/**
 * The usage of a command that runs here (not the client's, which answer --help themselves) when its arguments
 * ask for help (`--help` or `-h` before any `--`), else null. Each command's strict option parsing would
 * otherwise refuse --help as an unknown option or command.
 */
async function localHelp(command: string | undefined, rest: string[]): Promise<string | null> {
  const end = rest.indexOf("--");
  if (!(end === -1 ? rest : rest.slice(0, end)).some((a) => a === "--help" || a === "-h")) return null;
  if (command === "dags") return isLocalDagsCommand(rest) ? `Usage: leoflow ${DAGS_LOCAL_USAGE}\n` : null;
  if (command === "agent") return `Usage: leoflow ${AGENT_USAGE}\n`;
  if (!["db", "secrets", "users", "teams", "config", "install"].includes(command ?? "")) return null;
  const cli = await import("./cli");
  const texts: Record<string, string> = {
    db: `${DB_MIGRATE_USAGE}\n       leoflow ${cli.DB_BACKUP_USAGE}`,
    secrets: cli.SECRETS_USAGE,
    users: cli.USERS_USAGE,
    teams: cli.TEAMS_USAGE,
    config: cli.CONFIG_USAGE,
    install: cli.INSTALL_USAGE,
  };
  return `Usage: leoflow ${texts[command!]}\n`;
}

function usage(message: string): number {
  process.stderr.write(`leoflow: ${message}\nRun 'leoflow help' for the commands.\n`);
  return 2;
}

async function serve(args: string[]): Promise<number> {
  const [{ loadServeConfig, serveHelp }, { DEFAULT_CONFIG_FILE }] = await Promise.all([import("./config"), import("./config-file")]);
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(serveHelp());
    return 0;
  }
  let cfg: ServeConfig;
  try {
    cfg = loadServeConfig(args, process.env, DEFAULT_CONFIG_FILE);
  } catch (e) {
    if (e instanceof ValidationError) {
      process.stderr.write(`leoflow serve: invalid configuration\n${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const log = createLogger("leoflow");
  const { startServer } = await import("./app");
  let starting: ReturnType<typeof startServer>;
  // SIGHUP (systemctl reload): the same flags and environment, the config file read again. Listening from
  // before the start, because SIGHUP's default action ends the process: a reload sent the moment the server
  // says it is serving must not kill it. A valid reload waits for the start to finish. (A signal is handled
  // on the event loop, so `starting` is set by the time a handler runs.)
  process.on("SIGHUP", () => {
    try {
      const next = loadServeConfig(args, process.env, DEFAULT_CONFIG_FILE);
      starting.then((s) => s.reload(next)).catch((e) => log.error("reload failed", { error: toError(e) }));
    } catch (e) {
      log.error("SIGHUP: the configuration is invalid, keeping the running one", { error: toError(e) });
    }
  });
  // SIGTERM and SIGINT are listened for from before the start too, for the same reason: a stop sent while the
  // server starts (systemctl stop, Ctrl-C) waits for the start to finish and then shuts down as usual, instead
  // of the default action ending the process half-started.
  let signals = 0;
  let exit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  const onSignal = (sig: string) => {
    if (++signals > 1) {
      log.warn(`second ${sig}: exiting now`);
      process.exit(130);
    }
    log.info(`received ${sig}`);
    starting.then(
      (server) =>
        server.shutdown().then(
          () => exit(0),
          (e) => (log.error("shutdown failed", { error: e }), exit(1)),
        ),
      () => {}, // a start that fails is reported below, and serve returns 1
    );
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  starting = startServer(cfg, log);
  try {
    await starting;
  } catch (e) {
    log.error("could not start", { error: bindProblem(e, cfg) ?? toError(e) });
    return 1;
  }
  return exited;
}

/**
 * A failed bind said as what to change: Bun.serve's errors ("EINVAL: invalid argument, listen",
 * "EADDRNOTAVAIL …") name neither the setting nor the address. Null for any other start failure.
 */
function bindProblem(e: unknown, cfg: ServeConfig): Error | null {
  const { code, syscall } = (e ?? {}) as NodeJS.ErrnoException;
  if (syscall !== "listen") return null;
  if (code === "EADDRINUSE")
    return new Error(`--port ${cfg.port} is already in use on ${cfg.host} (EADDRINUSE); stop what listens there or pick another --port`);
  if (code === "EACCES")
    return new Error(`--port ${cfg.port} needs privileges to bind (EACCES); use a port above 1023 or grant CAP_NET_BIND_SERVICE`);
  return new Error(
    `--host ${cfg.host}: cannot listen on it (${code}): it is not an IP address of this machine; use 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or an address \`ip addr\` lists`,
  );
}

async function agent(args: string[]): Promise<number> {
  // (`agent --help` is answered by localHelp.)
  const { values } = parseArgs({
    args,
    options: { server: { type: "string" }, token: { type: "string" }, warm: { type: "boolean" } },
    strict: true,
  });
  // A warm agent (started ahead by the subprocess executor's pool) takes its tries' tokens from stdin.
  if (values.warm) return (await import("./agent")).runWarmAgent({ logger: createLogger("agent") });
  const server = values.server ?? process.env.LEOFLOW_SERVER;
  const token = values.token ?? process.env.LEOFLOW_AGENT_TOKEN;
  if (!server || !token) return usage("agent needs --server URL (or LEOFLOW_SERVER) and a token in LEOFLOW_AGENT_TOKEN (or --token)");
  const { runAgent } = await import("./agent");
  return runAgent({ server, token, logger: createLogger("agent") });
}

/**
 * `dags validate PATH` and `dags list PATH` read local files, as they always did; `dags list` without a
 * PATH (an option may follow) and the other `dags` actions ask the server.
 */
function isLocalDagsCommand([sub, path]: string[]): boolean {
  return sub === "validate" || (sub === "list" && path !== undefined && !path.startsWith("-"));
}

/** The client of a running server, loaded only when one of its commands runs. */
async function client(argv: string[]): Promise<number> {
  const { runClient } = await import("./cli/client");
  return runClient(argv);
}

async function dags(args: string[]): Promise<number> {
  const [sub, ...paths] = args;
  if ((sub !== "validate" && sub !== "list") || !paths.length) return usage(DAGS_LOCAL_USAGE);
  const option = paths.find((p) => p.startsWith("-"));
  if (option) return usage(`dags ${sub} takes no option "${option}"; ${DAGS_LOCAL_USAGE}`);
  const [{ validatePath, IsolatedDagParser }, { dagParseLimitsFromEnv }, { selfCommand }] = await Promise.all([
    import("./dags"),
    import("./config"),
    import("./agent"),
  ]);
  // Out of process, as the server parses: a hostile file becomes an error line, not the end of the CLI.
  const parser = new IsolatedDagParser({ command: selfCommand(), version: VERSION, limits: dagParseLimitsFromEnv() });
  let bad = 0;
  // Every path given, in order (a shell glob gives several): one result line per file, exit 1 if any is bad.
  for (const path of paths) {
    const results = await validatePath(path, parser);
    for (const r of results) {
      if (r.errors.length) {
        bad++;
        for (const e of r.errors) process.stdout.write(`${r.file}: ${e.path ? e.path + ": " : ""}${e.message}\n`);
      } else if (sub === "validate") {
        process.stdout.write(`${r.file}: ok (${r.dags.map((d) => d.spec.dag_id).join(", ")})\n`);
      }
      if (sub === "list")
        for (const d of r.dags)
          process.stdout.write(`${d.spec.dag_id}\t${d.spec.schedule ?? "None"}\t${d.spec.tasks.length} tasks\t${r.file}\n`);
    }
    if (!results.length) process.stdout.write(`no DAG files under ${path}\n`);
  }
  return bad ? 1 : 0;
}

async function db(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "backup") return cliCommand("db backup", async (cli) => cli.dbBackupCommand(rest, cliIo()));
  if (sub !== "migrate") return usage(`${DB_MIGRATE_USAGE} | db backup PATH [--db URL | --config PATH]`);
  return cliCommand("db migrate", async (cli) => {
    let values: { db?: string; "data-dir"?: string; config?: string };
    try {
      const options = { db: { type: "string" }, "data-dir": { type: "string" }, config: { type: "string" } } as const;
      ({ values } = parseArgs({ args: rest, options, strict: true }));
    } catch (e) {
      throw new cli.UsageError(`${e instanceof Error ? e.message : String(e)}; ${DB_MIGRATE_USAGE}`);
    }
    // The store serve would open: --db, else the data dir's, from flags, LEOFLOW_* and the config file alike.
    return migrate((await cli.serveStore(values, process.env)).url);
  });
}

async function migrate(url: string): Promise<number> {
  const [{ openStore }, { redactUrl }] = await Promise.all([import("./store"), import("./domain")]);
  const store = openStore(url);
  await store.migrate();
  await store.close();
  process.stdout.write(`migrated ${redactUrl(url)}\n`);
  return 0;
}

async function secrets(args: string[]): Promise<number> {
  const { secretsCommand, UsageError } = await import("./cli");
  try {
    return await secretsCommand(args, { out: (t) => process.stdout.write(t), env: process.env });
  } catch (e) {
    if (e instanceof UsageError) return usage(e.message);
    process.stderr.write(`leoflow secrets: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

async function users(args: string[]): Promise<number> {
  const { usersCommand, UsageError } = await import("./cli");
  try {
    return await usersCommand(args, { out: (t) => process.stdout.write(t), env: process.env, readStdin: () => Bun.stdin.text() });
  } catch (e) {
    if (e instanceof UsageError) return usage(e.message);
    process.stderr.write(`leoflow users: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

async function configCommand(args: string[]): Promise<number> {
  return cliCommand("config", async (cli) => cli.configCommand(args, cliIo()));
}

async function install(args: string[]): Promise<number> {
  return cliCommand("install", async (cli) => cli.installCommand(args, cliIo()));
}

const cliIo = () => ({ out: (t: string) => void process.stdout.write(t), env: process.env });

/** Runs a command of src/cli: a UsageError exits 2 with the usage, any other error 1 with its message. */
async function cliCommand(name: string, run: (cli: typeof import("./cli")) => Promise<number>): Promise<number> {
  const cli = await import("./cli");
  try {
    return await run(cli);
  } catch (e) {
    if (e instanceof cli.UsageError) return usage(e.message);
    process.stderr.write(`leoflow ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`leoflow: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
