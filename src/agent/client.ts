/**
 * The agent's client for AgentService: Connect protocol, unary calls, JSON encoding (AppendLogs in binary:
 * wire-logs.ts), over fetch. Every call carries the bearer token and is retried with `backoff` on transient
 * failures (control plane restarting, network blip, deadline), which is safe because every AgentService call
 * is idempotent. Answers that retrying cannot change (permission_denied, invalid_argument,
 * failed_precondition…) fail at once.
 *
 * Why not @connectrpc/connect's client: the agent starts once per task, and loading the protobuf runtime
 * with the service descriptors costs ~20 ms of start-up per task (measured on a compiled binary). The wire
 * format is the same Connect protocol the server's connect-es router speaks; the tests run this client
 * against that router.
 *
 * @example
 * const client = dial("http://127.0.0.1:8080", token);
 * await client.register({ hostname: "h", pid: process.pid, version: "" });
 */
import type { Logger } from "../observability/logger";
import { LeoflowError, errorMessage } from "../domain/errors";
import { backoff } from "./backoff";
import { appendLogsRequestBytes } from "./wire-logs";

const SERVICE = "leoflow.agent.v1.AgentService";

/** Error codes as the Connect protocol names them on the wire. */
export type RpcCode =
  | "canceled"
  | "unknown"
  | "invalid_argument"
  | "deadline_exceeded"
  | "not_found"
  | "already_exists"
  | "permission_denied"
  | "resource_exhausted"
  | "failed_precondition"
  | "aborted"
  | "out_of_range"
  | "unimplemented"
  | "internal"
  | "unavailable"
  | "data_loss"
  | "unauthenticated";

export class AgentRpcError extends LeoflowError {
  constructor(
    readonly code: RpcCode,
    /** The server's message, without the method and code prefix. */
    readonly rawMessage: string,
    readonly method: string,
  ) {
    super(`${method}: [${code}] ${rawMessage}`);
    this.name = "AgentRpcError";
  }
}

// Message shapes of agent.proto in its JSON mapping (lowerCamelCase; int64 travels as a string).
export interface LogLine {
  timestampMs: number;
  stream: string;
  line: string;
}
export interface RegisterResponse {
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  heartbeatIntervalSeconds: number;
  /** What GetTaskSpec answers, when asked for with includeSpec and the control plane could build it. */
  spec?: GetTaskSpecResponse;
  /** ReportState stores the last log lines sent with it (false from a control plane older than that). */
  reportTakesLogs: boolean;
}
export interface GetTaskSpecResponse {
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  operator: string;
  taskJson: string;
  env: Record<string, string>;
  xcomInputs: Record<string, string>;
  dagFile: string;
  timeoutSeconds: number;
  logicalDate: string;
  confJson: string;
  paramsJson: string;
  /** Values the control plane rendered into the task's templates that must be masked in its log. */
  secrets: string[];
  /** Why the task's templates could not be rendered; the try fails with it. */
  templateError: string;
  /** The DAG's requirements, for a python task (python-venv.ts). */
  pythonRequirements: string[];
  /** The seq of this launch's first log line (int64: a string in proto3 JSON). */
  logSeqStart: string;
}
export interface HeartbeatResponse {
  shouldStop: boolean;
  reason: string;
  /** A fresh token from the control plane; the client uses it for every later call. */
  renewedToken: string;
}
export interface ReportStateResponse {
  state: string;
}
export interface GetVariableResponse {
  found: boolean;
  value: string;
  /** Stored encrypted: masked whatever its key. */
  secret: boolean;
}
export interface GetConnectionResponse {
  found: boolean;
  connType: string;
  host: string;
  login: string;
  password: string;
  schema: string;
  port: number;
  extraJson: string;
}

export interface AgentClient {
  register(req: { hostname?: string; pid?: number; version?: string; includeSpec?: boolean }): Promise<RegisterResponse>;
  getTaskSpec(req: Record<string, never>): Promise<GetTaskSpecResponse>;
  appendLogs(req: { firstSeq: number; lines: LogLine[] }): Promise<void>;
  heartbeat(req: Record<string, never>): Promise<HeartbeatResponse>;
  pushXCom(req: { key: string; valueJson: string }): Promise<void>;
  /**
   * `final`: a failure no retry can change (a sensor's timeout). `logs`: the try's last log lines, stored with
   * the state (only to a control plane whose Register said reportTakesLogs).
   */
  reportState(req: {
    state: string;
    exitCode: number;
    error: string;
    final?: boolean;
    logs?: { firstSeq: number; lines: LogLine[] };
  }): Promise<ReportStateResponse>;
  getVariable(req: { key: string }): Promise<GetVariableResponse>;
  getConnection(req: { connId: string }): Promise<GetConnectionResponse>;
}

export interface DialOptions {
  /** Waits between attempts; tests pass a recorder instead of sleeping. */
  sleep?: (ms: number) => Promise<void>;
  /** Per-attempt deadline. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  logger?: Logger;
}

/** ReportState's request as this client sends it (proto3 JSON): over HTTP, or on a warm agent's control pipe. */
export function reportStateBody({ logs, ...req }: Parameters<AgentClient["reportState"]>[0]): Record<string, unknown> {
  const lines = logs?.lines.length ? { logFirstSeq: String(logs.firstSeq), logLines: wireLines(logs.lines) } : {};
  return { ...req, ...lines };
}

/** ReportState's answer from its JSON, the state JSON may omit (empty) put back. */
export function reportAnswer(json: Record<string, unknown>): ReportStateResponse {
  return { state: "", ...(json as Partial<ReportStateResponse>) };
}

/**
 * Register's answer from its JSON (over the RPC, or in a warm agent's assignment line when the server
 * registered the try), with the fields JSON may omit at their defaults put back.
 */
export function registerAnswer(json: Record<string, unknown>): RegisterResponse {
  const { spec, ...res } = json;
  return {
    ...REGISTER,
    ...(res as Partial<RegisterResponse>),
    ...(spec ? { spec: { ...SPEC, ...(spec as Partial<GetTaskSpecResponse>) } } : {}),
  };
}

const RETRYABLE: ReadonlySet<RpcCode> = new Set(["unavailable", "unknown", "deadline_exceeded", "aborted"]);

export function isRetryable(e: unknown): boolean {
  return e instanceof AgentRpcError && RETRYABLE.has(e.code);
}

// Proto3 JSON omits fields at their default value; these put them back.
const REGISTER: RegisterResponse = { dagId: "", runId: "", taskId: "", tryNumber: 0, heartbeatIntervalSeconds: 0, reportTakesLogs: false };
const SPEC: GetTaskSpecResponse = {
  dagId: "",
  runId: "",
  taskId: "",
  tryNumber: 0,
  operator: "",
  taskJson: "",
  env: {},
  xcomInputs: {},
  dagFile: "",
  timeoutSeconds: 0,
  logicalDate: "",
  confJson: "",
  paramsJson: "",
  secrets: [],
  templateError: "",
  pythonRequirements: [],
  logSeqStart: "0",
};
const CONNECTION: GetConnectionResponse = {
  found: false,
  connType: "",
  host: "",
  login: "",
  password: "",
  schema: "",
  port: 0,
  extraJson: "",
};

export function dial(serverUrl: string, token: string, opts: DialOptions = {}): AgentClient {
  const base = serverUrl.replace(/\/+$/, "");
  const doFetch = opts.fetch ?? fetch;
  const sleep = opts.sleep ?? ((ms: number) => Bun.sleep(ms));
  const timeoutMs = opts.timeoutMs ?? 30_000;

  const once = async (method: string, body: unknown): Promise<Record<string, unknown>> => {
    const binary = body instanceof Uint8Array;
    let res: Response;
    try {
      res = await doFetch(`${base}/${SERVICE}/${method}`, {
        method: "POST",
        headers: {
          "content-type": binary ? "application/proto" : "application/json",
          "connect-protocol-version": "1",
          authorization: `Bearer ${token}`,
        },
        body: binary ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? v.toString() : v)),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const timedOut = e instanceof Error && e.name === "TimeoutError";
      throw new AgentRpcError(timedOut ? "deadline_exceeded" : "unavailable", errorMessage(e), method);
    }
    // A binary call's answer is a message this client does not read (AppendLogs: empty); its errors are JSON.
    if (res.ok && binary) return (void (await res.arrayBuffer()), {});
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      // A proxy or a server in the middle of a restart may answer with HTML or nothing.
    }
    if (res.ok) return json;
    const code = typeof json.code === "string" ? (json.code as RpcCode) : codeForStatus(res.status);
    throw new AgentRpcError(code, typeof json.message === "string" ? json.message : `HTTP ${res.status}`, method);
  };

  const call = async (method: string, body: unknown): Promise<Record<string, unknown>> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(method, body);
      } catch (e) {
        const { delayMs, ok } = backoff(attempt);
        if (!isRetryable(e) || !ok) throw e;
        opts.logger?.warn(`${method} failed; retrying`, { attempt, delay_ms: delayMs, error: (e as AgentRpcError).rawMessage });
        await sleep(delayMs);
      }
    }
  };

  return {
    register: async (req) => registerAnswer(await call("Register", req)),
    getTaskSpec: async (req) => ({ ...SPEC, ...(await call("GetTaskSpec", req)) }),
    appendLogs: async (req) => {
      await call("AppendLogs", appendLogsRequestBytes(req.firstSeq, req.lines));
    },
    heartbeat: async (req) => {
      const res: HeartbeatResponse = { shouldStop: false, reason: "", renewedToken: "", ...(await call("Heartbeat", req)) };
      if (res.renewedToken) token = res.renewedToken; // tasks without execution_timeout outlive their first token
      return res;
    },
    pushXCom: async (req) => {
      await call("PushXCom", req);
    },
    reportState: async (req) => reportAnswer(await call("ReportState", reportStateBody(req))),
    getVariable: async (req) => ({ found: false, value: "", secret: false, ...(await call("GetVariable", req)) }),
    getConnection: async (req) => ({ ...CONNECTION, ...(await call("GetConnection", req)) }),
  };
}

/** The Connect protocol's mapping for HTTP statuses that carry no Connect error body. */
function codeForStatus(status: number): RpcCode {
  if (status === 400) return "internal";
  if (status === 401) return "unauthenticated";
  if (status === 403) return "permission_denied";
  if (status === 404) return "unimplemented";
  if (status === 429 || status === 502 || status === 503 || status === 504) return "unavailable";
  return "unknown";
}

/** Log lines as the protocol's JSON carries them (int64 as a string). */
const wireLines = (lines: readonly LogLine[]) => lines.map((l) => ({ ...l, timestampMs: String(l.timestampMs) }));
