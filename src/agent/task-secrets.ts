/**
 * A task's reads of its team's variables and connections through the agent RPC (GetVariable, GetConnection),
 * shared by env_from, `leoflow task var|conn get` and a ts task's ctx.var/ctx.conn. "Not found" is an error
 * naming what is missing and how to create it: a task never goes on with an empty value.
 */
import { LeoflowError } from "../domain/errors"; // not the index: keeps agent start-up light
import { connectionUri, type TaskConnection } from "../domain/env-from";
import type { AgentClient } from "./client";

export class MissingTaskSecretError extends LeoflowError {
  constructor(message: string) {
    super(message);
    this.name = "MissingTaskSecretError";
  }
}

type Reader = Pick<AgentClient, "getVariable" | "getConnection">;

/** A variable's value, and whether it is stored encrypted (then it is masked whatever its key). */
export async function readVariable(client: Reader, key: string): Promise<{ value: string; encrypted: boolean }> {
  const v = await client.getVariable({ key });
  if (!v.found)
    throw new MissingTaskSecretError(
      `variable "${key}" does not exist in this task's team; create it with 'leoflow variables set ${key} VALUE' (or POST /api/v2/variables)`,
    );
  return { value: v.value, encrypted: v.secret };
}

export async function readConnection(client: Reader, connId: string): Promise<TaskConnection> {
  const c = await client.getConnection({ connId });
  if (!c.found)
    throw new MissingTaskSecretError(
      `connection "${connId}" does not exist in this task's team; create it with 'leoflow connections add ${connId} --conn-uri URI' (or POST /api/v2/connections)`,
    );
  // Proto3 sends unset fields as "" and 0; a task sees them as unset.
  const fields = {
    conn_type: c.connType,
    host: c.host || null,
    port: c.port || null,
    login: c.login || null,
    password: c.password || null,
    schema: c.schema || null,
    extra: c.extraJson || null,
  };
  return { conn_id: connId, ...fields, uri: connectionUri(fields) };
}
