/**
 * `leoflow task var get KEY` and `leoflow task conn get ID [--field F | --json]`: read the running task's team's
 * variables and connections from inside the task, with the try's token (LEOFLOW_AGENT_TOKEN) against the
 * control plane the agent uses (LEOFLOW_SERVER); both are in every task's environment. A secret is reported to
 * the agent's mask file before it is printed, so echoing it leaves "***" in the task's log. Exit codes: 0 the
 * value is printed, 1 it does not exist or the control plane refused, 2 bad usage or not inside a task.
 */
import { parseArgs } from "../args";
import { CONNECTION_FIELDS, connectionField, connectionSecrets, variableSecrets, type ConnectionField } from "../domain/env-from";
import { errorMessage } from "../domain/errors";
import { AgentRpcError, dial, type AgentClient } from "./client";
import { recordSecrets } from "./mask-file";
import { currentTaskToken } from "./token-file";
import { readConnection, readVariable } from "./task-secrets";

export const TASK_HELP = `Usage (inside a running task):
  leoflow task var get KEY                   print a variable of the task's team
  leoflow task conn get ID                   print a connection as a URI (TYPE://LOGIN:PASSWORD@HOST:PORT/SCHEMA)
  leoflow task conn get ID --field FIELD     print one field: ${CONNECTION_FIELDS.join(", ")}
  leoflow task conn get ID --json            print the connection as JSON
Secrets printed this way are masked as *** in the task's log.
`;

export interface TaskCliIo {
  env: Record<string, string | undefined>;
  out(text: string): void;
  err(text: string): void;
  /** Tests pass a client; otherwise one is dialled from LEOFLOW_SERVER and LEOFLOW_AGENT_TOKEN. */
  client?: Pick<AgentClient, "getVariable" | "getConnection">;
}

class Usage extends Error {}

export async function runTaskCommand(argv: string[], io: TaskCliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (e) {
    if (e instanceof Usage) {
      io.err(`leoflow task: ${e.message}\n${TASK_HELP}`);
      return 2;
    }
    const message = e instanceof AgentRpcError ? `the control plane refused (${e.code}): ${e.rawMessage}` : errorMessage(e);
    io.err(`leoflow task ${argv.slice(0, 2).join(" ")}: ${message}\n`);
    return 1;
  }
}

async function run(argv: string[], io: TaskCliIo): Promise<number> {
  const { values, positionals } = parseArgsOrUsage(argv);
  if (values.help) {
    io.out(TASK_HELP);
    return 0;
  }
  const [what, verb, name, ...extra] = positionals;
  if ((what !== "var" && what !== "conn") || verb !== "get" || !name || extra.length)
    throw new Usage(`expected 'var get KEY' or 'conn get ID', got '${positionals.join(" ")}'`);
  if (what === "var" && (values.field || values.json)) throw new Usage("--field and --json go with 'conn get'");
  const field = values.field as ConnectionField | undefined;
  if (field && !(CONNECTION_FIELDS as readonly string[]).includes(field))
    throw new Usage(`unknown --field "${field}"; use one of ${CONNECTION_FIELDS.join(", ")}`);
  if (field && values.json) throw new Usage("use either --field or --json");
  const client = io.client ?? dialFromEnv(io.env);

  if (what === "var") {
    const { value, encrypted } = await readVariable(client, name);
    recordSecrets(variableSecrets(name, value, "", encrypted), io.env);
    io.out(`${value}\n`);
    return 0;
  }
  const conn = await readConnection(client, name);
  recordSecrets(connectionSecrets(conn), io.env);
  if (values.json) {
    io.out(`${JSON.stringify(conn)}\n`);
    return 0;
  }
  const value = connectionField(conn, field ?? "uri");
  if (value === null) {
    io.err(`leoflow task conn get: connection "${name}" has no ${field}\n`);
    return 1;
  }
  io.out(`${value}\n`);
  return 0;
}

function parseArgsOrUsage(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: { field: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new Usage(errorMessage(e));
  }
}

function dialFromEnv(env: Record<string, string | undefined>): AgentClient {
  const server = env.LEOFLOW_SERVER;
  const token = currentTaskToken(env);
  if (!server || !token)
    throw new Usage(
      "LEOFLOW_SERVER and LEOFLOW_AGENT_TOKEN are not set: 'leoflow task' works inside a running Leoflow task, where the agent sets them",
    );
  // One quick answer or a clear error: a task waiting minutes on retries would hide the problem.
  return dial(server, token, { timeoutMs: 10_000 });
}
