/**
 * What the agent adds to a try's environment so the task can read its team's variables and connections:
 * env_from resolved (secrets registered with the log shipper's masker), the mask file the task's own reads
 * report to, the control plane's address and the try's token (for `leoflow task …` and ctx.var/ctx.conn; the
 * token file, which the runner writes once the user process started, keeps the renewed one), and `leoflow` on
 * PATH.
 */
import { join } from "node:path";
import type { TaskSpec } from "../domain";
import type { AgentClient } from "./client";
import { resolveEnvFrom } from "./env-from";
import type { TryDir } from "./try-dir";
import type { LogShipper } from "./log-shipper";
import { MASK_FILE_ENV, MaskFileReader } from "./mask-file";
import { TOKEN_FILE_ENV } from "./token-file";

export interface TaskContextEnv {
  /** env_from's variables, for the task's own env (after the allowlist, before LEOFLOW_* values). */
  env: Record<string, string>;
  /** Set on top of the user process's env. */
  extra: Record<string, string>;
  /** Folder to put first on PATH. */
  pathPrefix: string;
  /** Where renewed tokens go, for the task's own calls (token-file.ts). */
  tokenFile: string;
}

/** Throws EnvFromError when an env_from entry cannot be filled; the caller fails the try with its message. */
export async function prepareTaskContext(input: {
  task: Pick<TaskSpec, "env_from">;
  client: Pick<AgentClient, "getVariable" | "getConnection">;
  shipper: LogShipper;
  /** The try's private temp folder (try-dir.ts), with `leoflow` in its bin folder. */
  dir: Pick<TryDir, "path" | "binDir">;
  server: string;
  token: string;
}): Promise<TaskContextEnv> {
  const { env, secrets } = await resolveEnvFrom(input.task.env_from, input.client);
  for (const s of secrets) input.shipper.masker.add(s);
  const maskFile = join(input.dir.path, "secrets-to-mask");
  input.shipper.followSecrets(new MaskFileReader(maskFile));
  const pathPrefix = input.dir.binDir;
  // Written by the runner once the user process is started (off a chain's hop): until then a task's reads
  // fall back to $LEOFLOW_AGENT_TOKEN, the same token (currentTaskToken).
  const tokenFile = join(input.dir.path, "agent-token");
  return {
    env,
    extra: { [MASK_FILE_ENV]: maskFile, [TOKEN_FILE_ENV]: tokenFile, LEOFLOW_SERVER: input.server, LEOFLOW_AGENT_TOKEN: input.token },
    pathPrefix,
    tokenFile,
  };
}

/**
 * The user process's env with the context applied. The server and token are the ones this agent talks with
 * for this try (a warm agent, or one given --token, may not have them in its own env).
 */
export function withTaskContext(env: Record<string, string>, ctx: TaskContextEnv): Record<string, string> {
  const out = { ...env, ...ctx.extra };
  out.PATH = out.PATH ? `${ctx.pathPrefix}:${out.PATH}` : ctx.pathPrefix;
  return out;
}
