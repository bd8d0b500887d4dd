/**
 * The token file: how a task's own process (`leoflow task var|conn get`, a ts task's ctx.var/ctx.conn) keeps
 * calling the control plane after the token in its environment expired. A try without execution_timeout
 * gets renewed tokens through its heartbeats (--agent-token-ttl); the agent writes each one to
 * $LEOFLOW_AGENT_TOKEN_FILE, and a task reads the file before falling back to $LEOFLOW_AGENT_TOKEN, which
 * an environment cannot update.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";

export const TOKEN_FILE_ENV = "LEOFLOW_AGENT_TOKEN_FILE";

/** Replaces the file in one step, so a reader never sees half a token. */
export function writeTokenFile(path: string, token: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, token, { mode: 0o600 });
  renameSync(tmp, path);
}

/** The freshest token a task has: the token file's, else $LEOFLOW_AGENT_TOKEN; undefined outside a task. */
export function currentTaskToken(env: Record<string, string | undefined>): string | undefined {
  const file = env[TOKEN_FILE_ENV];
  if (file) {
    try {
      const token = readFileSync(file, "utf8").trim();
      if (token) return token;
    } catch {
      // Gone with its try, or not written yet: the environment's token is the one to try.
    }
  }
  return env.LEOFLOW_AGENT_TOKEN || undefined;
}
