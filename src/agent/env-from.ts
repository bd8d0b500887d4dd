/**
 * Resolves a task's `env_from` before its process starts: each variable and connection is fetched once
 * through the agent RPC (scoped by the token to the task's team), and the values to mask are collected.
 * Everything missing is reported at once, by env name and reference, so one failed try says what to create.
 *
 * @example await resolveEnvFrom({ API_KEY: "var:api_key", DB: "conn:warehouse" }, client) // { env: { API_KEY: "…", DB: "postgres://…" }, secrets: [...] }
 */
import { LeoflowError, errorMessage } from "../domain/errors"; // not the index: keeps agent start-up light
import {
  connectionField,
  connectionSecrets,
  parseEnvFromRef,
  variableSecrets,
  type EnvFromRef,
  type TaskConnection,
} from "../domain/env-from";
import type { AgentClient } from "./client";
import { MissingTaskSecretError, readConnection, readVariable } from "./task-secrets";

export class EnvFromError extends LeoflowError {
  constructor(message: string) {
    super(message);
    this.name = "EnvFromError";
  }
}

export interface ResolvedEnvFrom {
  env: Record<string, string>;
  /** Values to mask in the task's log (connection passwords, sensitive-named variables). */
  secrets: string[];
}

export async function resolveEnvFrom(
  envFrom: Record<string, string> | undefined,
  client: Pick<AgentClient, "getVariable" | "getConnection">,
): Promise<ResolvedEnvFrom> {
  const entries = Object.entries(envFrom ?? {});
  if (!entries.length) return { env: {}, secrets: [] };
  const refs = entries.map(([name, raw]) => ({ name, raw, ref: parseEnvFromRef(raw) }));
  // Validated at parse; a spec stored by an older version still gets a precise message.
  const malformed = refs.filter((r) => "error" in r.ref);
  if (malformed.length)
    throw new EnvFromError(`env_from: ${malformed.map((r) => `${r.name}: ${(r.ref as { error: string }).error}`).join("; ")}`);

  const vars = new Map<string, ReturnType<typeof readVariable>>();
  const conns = new Map<string, Promise<TaskConnection>>();
  for (const { ref } of refs as { ref: EnvFromRef }[]) {
    if (ref.kind === "var" && !vars.has(ref.key)) vars.set(ref.key, readVariable(client, ref.key));
    if (ref.kind === "conn" && !conns.has(ref.connId)) conns.set(ref.connId, readConnection(client, ref.connId));
  }
  // Settle all before judging any, so every missing one is named and no request is left unobserved.
  await Promise.allSettled([...vars.values(), ...conns.values()]);

  const env: Record<string, string> = {};
  const secrets = new Set<string>();
  const problems: string[] = [];
  for (const { name, raw, ref } of refs as { name: string; raw: string; ref: EnvFromRef }[]) {
    try {
      if (ref.kind === "var") {
        const { value, encrypted } = await (vars.get(ref.key) as ReturnType<typeof readVariable>);
        env[name] = value;
        for (const s of variableSecrets(ref.key, value, name, encrypted)) secrets.add(s);
      } else {
        const conn = await (conns.get(ref.connId) as Promise<TaskConnection>);
        const value = connectionField(conn, ref.field);
        if (value === null) throw new MissingTaskSecretError(`connection "${ref.connId}" has no ${ref.field}; set it or drop ${name}`);
        env[name] = value;
        for (const s of connectionSecrets(conn)) secrets.add(s);
      }
    } catch (e) {
      problems.push(`${name} (${raw}): ${e instanceof MissingTaskSecretError ? e.message : `could not be read: ${errorMessage(e)}`}`);
    }
  }
  if (problems.length) throw new EnvFromError(`env_from could not be resolved: ${problems.join("; ")}`);
  return { env, secrets: [...secrets] };
}
