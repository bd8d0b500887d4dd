/**
 * A real API over a fresh in-memory SQLite store (with secrets sealed, as serve does), with two DAGs, two users
 * and a fake scheduler handle.
 */
import { createApi, type ApiDeps } from "../../../src/api";
import type { DagFilesHandle } from "../../../src/api";
import { hashPassword, UserTokens } from "../../../src/auth";
import { SecretsCipher } from "../../../src/store";
import { parseDagSpec } from "../../../src/domain";
import { openStore, withSecrets, type Store } from "../../../src/store";
import { checkResponse } from "./response-check";

export const NOW = new Date("2026-03-01T12:00:00Z");
export const SECRET = "test-secret-test-secret-32-bytes";
export const TEST_CIPHER = new SecretsCipher(Buffer.alloc(32, 42));

export const ETL = {
  dag_id: "etl",
  description: "nightly load",
  schedule: "@daily",
  start_date: "2026-01-01T00:00:00Z",
  tags: ["prod", "db"],
  params: { limit: { type: "integer", default: 10, minimum: 1 } },
  default_args: { retries: 2 },
  tasks: [
    { task_id: "extract", operator: "bash", bash_command: "echo hi" },
    { task_id: "load", operator: "bash", bash_command: "echo load", upstream: ["extract"] },
  ],
};

export const REPORT = {
  dag_id: "report",
  tags: ["adhoc"],
  tasks: [{ task_id: "render", operator: "python", python_code: "print(1)" }],
};

export interface CallOptions {
  body?: unknown;
  token?: string | null;
  headers?: Record<string, string>;
  check?: boolean;
}

export interface Harness {
  store: Store;
  /** The same store without the secrets layer: what the database holds. */
  rawStore: Store;
  tokens: UserTokens;
  wakes: (number | undefined)[];
  /** A bearer token for the admin (or the given user). */
  token(user?: "admin" | "viewer"): Promise<string>;
  /** Every response is checked against the route's declared schemas; `check: false` skips that (fuzzing). */
  call(method: string, path: string, opts?: CallOptions): Promise<Response>;
  /** call() + parsed JSON body. */
  json(method: string, path: string, opts?: CallOptions): Promise<{ status: number; body: any }>;
}

// argon2id is deliberately slow: hash the fixture passwords once per test file, not per test.
let hashes: Promise<[string, string]> | null = null;

/** `api`: further ApiDeps for this harness (e.g. testConnection, config). */
export async function makeHarness(
  opts: { auth?: boolean; dagFiles?: DagFilesHandle; api?: Pick<ApiDeps, "testConnection" | "config"> } = {},
): Promise<Harness> {
  const rawStore = openStore("sqlite::memory:");
  const store = withSecrets(rawStore, TEST_CIPHER);
  await store.migrate();
  await store.upsertDag({ spec: parseDagSpec(ETL), fileloc: "/dags/etl.json", pausedOnCreate: false, now: NOW });
  await store.upsertDag({ spec: parseDagSpec(REPORT), fileloc: "/dags/report.json", pausedOnCreate: true, now: NOW });
  hashes ??= Promise.all([hashPassword("admin-pass"), hashPassword("viewer-pass")]);
  const [adminHash, viewerHash] = await hashes;
  await store.putUser({ username: "admin", password_hash: adminHash, role: "admin" }, NOW);
  await store.putUser({ username: "viewer", password_hash: viewerHash, role: "viewer" }, NOW);
  const tokens = new UserTokens(SECRET);
  const wakes: (number | undefined)[] = [];
  const app = createApi({
    store,
    tokens: opts.auth === false ? null : tokens,
    version: "9.9.9",
    dagFiles: opts.dagFiles,
    ...opts.api,
    scheduler: {
      wake: (id) => void wakes.push(id),
      health: () => ({ status: "healthy", latest_scheduler_heartbeat: NOW.toISOString() }),
    },
    now: () => NOW,
  });
  const defaultToken = await tokens.issue({ username: "admin", role: "admin" }, NOW);
  const call: Harness["call"] = (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const token = o.token === undefined ? defaultToken : o.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === "string" ? o.body : JSON.stringify(o.body);
      headers["Content-Type"] ??= "application/json";
    }
    // Every response is checked against the route's declared schemas (test/unit/api/response-check.ts).
    return Promise.resolve(app.request(path, { method, headers, body })).then(async (res) => {
      if (o.check !== false) await checkResponse(method, path, res);
      return res;
    });
  };
  return {
    store,
    rawStore,
    tokens,
    wakes,
    token: (user = "admin") => tokens.issue({ username: user, role: user }, NOW),
    call,
    json: async (method, path, o) => {
      const res = await call(method, path, o);
      return { status: res.status, body: await res.json() };
    },
  };
}
