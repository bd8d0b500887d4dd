/**
 * The agent's Connect client. Every call carries the bearer token and is retried with `backoff` on transient
 * failures (control plane restarting, network blip, deadline), which is safe because every AgentService call
 * is idempotent. Answers that retrying cannot change (PermissionDenied, InvalidArgument, FailedPrecondition…)
 * fail at once.
 *
 * @example
 * const client = dial("http://127.0.0.1:8080", token);
 * await client.register({ hostname: "h", pid: process.pid });
 */
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AgentService } from "../gen/leoflow/agent/v1/agent_pb";
import type { Logger } from "../observability";
import { backoff } from "./backoff";

export type AgentClient = Client<typeof AgentService>;

export interface DialOptions {
  /** Waits between attempts; tests pass a recorder instead of sleeping. */
  sleep?: (ms: number) => Promise<void>;
  /** Per-attempt deadline. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  logger?: Logger;
}

const RETRYABLE: ReadonlySet<Code> = new Set([Code.Unavailable, Code.Unknown, Code.DeadlineExceeded, Code.Aborted]);

export function isRetryable(e: unknown): boolean {
  return RETRYABLE.has(ConnectError.from(e).code);
}

export function dial(serverUrl: string, token: string, opts: DialOptions = {}): AgentClient {
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("Authorization", `Bearer ${token}`);
    return next(req);
  };
  const transport = createConnectTransport({
    baseUrl: serverUrl.replace(/\/+$/, ""),
    useBinaryFormat: true,
    interceptors: [bearer],
    fetch: opts.fetch,
  });
  const raw = createClient(AgentService, transport);
  return withRetries(raw, opts);
}

/** Wraps each method so transient failures are retried; the deadline is per attempt, not per call. */
export function withRetries(raw: AgentClient, opts: DialOptions = {}): AgentClient {
  const sleep = opts.sleep ?? ((ms: number) => Bun.sleep(ms));
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const wrapped: Record<string, unknown> = {};
  for (const method of AgentService.methods) {
    const call = (raw as unknown as Record<string, (req: unknown, o?: object) => Promise<unknown>>)[method.localName]!;
    wrapped[method.localName] = async (req: unknown, callOpts?: object) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await call(req, { timeoutMs, ...callOpts });
        } catch (e) {
          const { delayMs, ok } = backoff(attempt);
          if (!isRetryable(e) || !ok) throw e;
          opts.logger?.warn(`${method.name} failed; retrying`, { attempt, delay_ms: delayMs, error: ConnectError.from(e).message });
          await sleep(delayMs);
        }
      }
    };
  }
  return wrapped as unknown as AgentClient;
}
