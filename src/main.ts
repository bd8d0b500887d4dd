#!/usr/bin/env bun
/**
 * The leoflow command line: one binary that is the server (`serve`), the task-side agent (`agent`), and a
 * few tools (`dags validate`, `db migrate`, `version`). Exit codes: 0 ok, 1 failure, 2 bad usage.
 */
// Only light modules load eagerly: `leoflow agent` starts once per task, so everything else (zod schemas,
// hono, the stores) is imported by the command that needs it.
import { parseArgs } from "node:util";
import { ValidationError, toError } from "./domain/errors";
import { createLogger } from "./observability/logger";
import { VERSION } from "./version";
import type { ServeConfig } from "./config";
import type { RunningServer } from "./app";

const HELP = `leoflow ${VERSION} — workflow orchestrator (Airflow-style DAGs, one binary)

Usage:
  leoflow serve [flags]              run the scheduler, API, UI and agent RPC (see 'leoflow serve --help')
  leoflow dags validate PATH         check DAG files (a file or a folder); exit 1 when any is invalid
  leoflow dags list PATH             list the DAGs defined under PATH
  leoflow db migrate [--db URL]      apply database migrations (serve also does this at start)
  leoflow secrets rotate [--db URL] --old-key K1 --new-key K2
                                     re-encrypt connection passwords/extras and secret variables under a new
                                     key, in one transaction (keys also from LEOFLOW_SECRETS_KEY and
                                     LEOFLOW_SECRETS_NEW_KEY, or Lite's --data-dir key file); then restart
                                     every server with the new key
  leoflow agent --server URL         run one task instance (started by executors; token in LEOFLOW_AGENT_TOKEN)
  leoflow version                    print the version
  leoflow help                       this text

Quick start:
  leoflow serve --dags-folder ./dags        then open http://127.0.0.1:8080
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(HELP);
      return 0;
    case "version":
    case "--version":
      process.stdout.write(`leoflow ${VERSION}\n`);
      return 0;
    case "serve":
      return serve(rest);
    case "agent":
      return agent(rest);
    case "run-ts": {
      const [file, taskId, dagId] = rest;
      if (!file || !taskId || !dagId) return usage("run-ts FILE TASK_ID DAG_ID (internal: the agent runs ts tasks with it)");
      const { runTsTask } = await import("./dags");
      return runTsTask(file, taskId, dagId);
    }
    case "__parse-dags": {
      // Internal: the server and `dags validate` parse DAG files in a child running this (see src/dags/parse-worker.ts).
      const { runParseWorker } = await import("./dags");
      return runParseWorker(rest);
    }
    case "dags":
      return dags(rest);
    case "db":
      return db(rest);
    case "secrets":
      return secrets(rest);
    default:
      return usage(`unknown command "${command}"`);
  }
}

function usage(message: string): number {
  process.stderr.write(`leoflow: ${message}\nRun 'leoflow help' for the commands.\n`);
  return 2;
}

async function serve(args: string[]): Promise<number> {
  const { loadServeConfig, serveHelp } = await import("./config");
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(serveHelp());
    return 0;
  }
  let cfg: ServeConfig;
  try {
    cfg = loadServeConfig(args);
  } catch (e) {
    if (e instanceof ValidationError) {
      process.stderr.write(`leoflow serve: invalid configuration\n${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const log = createLogger("leoflow");
  const { startServer } = await import("./app");
  let server: RunningServer;
  try {
    server = await startServer(cfg, log);
  } catch (e) {
    log.error("could not start", { error: toError(e) });
    return 1;
  }
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (sig: string) => {
      if (++signals > 1) {
        log.warn(`second ${sig}: exiting now`);
        process.exit(130);
      }
      log.info(`received ${sig}`);
      server.shutdown().then(
        () => resolve(0),
        (e) => (log.error("shutdown failed", { error: e }), resolve(1)),
      );
    };
    process.on("SIGINT", () => onSignal("SIGINT"));
    process.on("SIGTERM", () => onSignal("SIGTERM"));
  });
}

async function agent(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { server: { type: "string" }, token: { type: "string" } }, strict: true });
  const server = values.server ?? process.env.LEOFLOW_SERVER;
  const token = values.token ?? process.env.LEOFLOW_AGENT_TOKEN;
  if (!server || !token) return usage("agent needs --server URL (or LEOFLOW_SERVER) and a token in LEOFLOW_AGENT_TOKEN (or --token)");
  const { runAgent } = await import("./agent");
  return runAgent({ server, token, logger: createLogger("agent") });
}

async function dags(args: string[]): Promise<number> {
  const [sub, path] = args;
  if ((sub !== "validate" && sub !== "list") || !path) return usage("dags validate PATH | dags list PATH");
  const [{ validatePath, IsolatedDagParser }, { dagParseLimitsFromEnv }, { selfCommand }] = await Promise.all([
    import("./dags"),
    import("./config"),
    import("./agent"),
  ]);
  // Out of process, as the server parses: a hostile file becomes an error line, not the end of the CLI.
  const parser = new IsolatedDagParser({ command: selfCommand(), version: VERSION, limits: dagParseLimitsFromEnv() });
  const results = await validatePath(path, parser);
  let bad = 0;
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
  return bad ? 1 : 0;
}

async function db(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "migrate") return usage("db migrate [--db URL]");
  const { values } = parseArgs({ args: rest, options: { db: { type: "string" } }, strict: true });
  const url = values.db ?? process.env.LEOFLOW_DB ?? "sqlite:./.leoflow/leoflow.db";
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`leoflow: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
