/**
 * A real API over a fresh store (with secrets sealed, as serve does), with two DAGs, two users and a fake
 * scheduler handle. `forEachApiStore` runs a route test file once per store: in-memory SQLite, and Postgres
 * (a schema per file, emptied before each test; skipped locally with one line when no server answers,
 * required under CI=true — see test/support/postgres.ts).
 *
 * @example
 * forEachApiStore((makeHarness) => {
 *   test("…", async () => { const h = await makeHarness(); … });
 * });
 */
import { afterEach, beforeAll, beforeEach, describe, setDefaultTimeout } from "bun:test";
import { createApi, type ApiDeps } from "../../../src/api";
import type { DagFilesHandle } from "../../../src/api";
import { hashPassword, UserTokens } from "../../../src/auth";
import { SecretsCipher } from "../../../src/store";
import { parseDagSpec } from "../../../src/domain/schemas";
import type { TaskInstancePatch, TaskState } from "../../../src/domain";
import { guardedStore, openStore, withSecrets, type Store } from "../../../src/store";
import { PostgresStore } from "../../../src/store/postgres";
import { describePg, pgUrl, resettableSchema } from "../../support/postgres";
import { checkResponse } from "./response-check";
import { type RunEnds, withStoreEvents } from "../../../src/events";

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

/**
 * Triggers etl's run r1 (logical date 2026-02-28) and answers its `extract` task instance and a `step` that moves it
 * from one state to another (with a patch), written at NOW + 1 s.
 */
export async function etlRunStepping(h: Harness) {
  await h.call("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: "r1", logical_date: "2026-02-28T00:00:00Z" } });
  const ti = (await h.store.getTaskInstance("default", "etl", "r1", "extract"))!;
  const at = new Date(NOW.getTime() + 1000);
  const step = (from: TaskState, to: TaskState, patch: TaskInstancePatch = {}) =>
    h.store.applyTransitions([{ id: ti.id, from: [from], to, patch }], at);
  return { ti, step };
}

export interface CallOptions {
  body?: unknown;
  token?: string | null;
  headers?: Record<string, string>;
  check?: boolean;
  /** What the server hands the routes as `c.env` (the Bun server, in app.ts). */
  env?: unknown;
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
export interface HarnessOptions {
  auth?: boolean;
  /** Run ends written through the harness's store wake GET …/wait's waiters, as in the server (app.ts). */
  runEnds?: RunEnds;
  dagFiles?: DagFilesHandle;
  api?: Pick<ApiDeps, "testConnection" | "config">;
}

export type MakeHarness = (opts?: HarnessOptions) => Promise<Harness>;

/** A harness over a fresh in-memory SQLite store. */
export const makeHarness: MakeHarness = (opts = {}) => harnessOver(openStore("sqlite::memory:"), opts);

/** Most harnesses one Postgres test may make (each gets a schema of its own). */
const PG_HARNESSES_PER_TEST = 3;

/**
 * Runs `fn` once per store, each in a describe block ("on sqlite", "on postgres"), handing it the
 * `makeHarness` of that store. On Postgres each harness of a test gets its own schema, emptied first; its
 * connections are closed after the test.
 */
export function forEachApiStore(fn: (makeHarness: MakeHarness, store: "sqlite" | "postgres") => void): void {
  // A Postgres round trip per store call makes some route tests slower than bun's 5 s default on a busy
  // machine; setDefaultTimeout holds for the calling test file (see bunfig.toml).
  setDefaultTimeout(20_000);
  describe("on sqlite", () => fn(makeHarness, "sqlite"));
  describePg("on postgres", () => {
    // Schemas are created lazily, on their first reset: a file whose tests make one harness pays for one.
    const schemas = Array.from({ length: PG_HARNESSES_PER_TEST }, () => resettableSchema());
    const open: Store[] = [];
    let inTest = false;
    beforeAll(() => schemas[0]!.reset(), 60_000);
    beforeEach(() => {
      inTest = true;
    });
    afterEach(async () => {
      inTest = false;
      await Promise.all(open.splice(0).map((s) => s.close()));
    });
    fn(async (opts = {}) => {
      if (!inTest)
        throw new Error(
          "makeHarness was called outside a test (in a describe or beforeAll): on Postgres a harness lives for one test; make it inside the test",
        );
      const schema = schemas[open.length];
      if (!schema)
        throw new Error(
          `a test made more than ${PG_HARNESSES_PER_TEST} harnesses; raise PG_HARNESSES_PER_TEST in test/integration/api/harness.ts`,
        );
      await schema.reset();
      const raw = guardedStore(new PostgresStore({ url: pgUrl(), schema: schema.name, max: 4 }));
      open.push(raw);
      return harnessOver(raw, opts);
    }, "postgres");
  });
}

async function harnessOver(rawStore: Store, opts: HarnessOptions): Promise<Harness> {
  const secret = withSecrets(rawStore, TEST_CIPHER);
  const store = opts.runEnds ? withStoreEvents(secret, { emit: () => {}, wanted: false }, undefined, undefined, opts.runEnds) : secret;
  await store.migrate();
  await store.upsertDag("default", { spec: parseDagSpec(ETL), fileloc: "/dags/etl.json", pausedOnCreate: false, now: NOW });
  await store.upsertDag("default", { spec: parseDagSpec(REPORT), fileloc: "/dags/report.json", pausedOnCreate: true, now: NOW });
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
    runEnds: opts.runEnds,
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
    // Every response is checked against the route's declared schemas (test/integration/api/response-check.ts).
    return Promise.resolve(app.request(path, { method, headers, body }, o.env)).then(async (res) => {
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
