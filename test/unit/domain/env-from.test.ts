import { describe, expect, test } from "bun:test";
import {
  ValidationError,
  connectionField,
  connectionSecrets,
  connectionUri,
  envFromProblems,
  parseEnvFromRef,
  variableSecrets,
  type TaskConnection,
} from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";

describe("parseEnvFromRef", () => {
  test.each([
    ["var:api_key", { kind: "var", key: "api_key" }],
    ["var:a.b:c", { kind: "var", key: "a.b:c" }],
    ["conn:warehouse", { kind: "conn", connId: "warehouse", field: "uri" }],
    ["conn:warehouse.password", { kind: "conn", connId: "warehouse", field: "password" }],
    ["conn:warehouse.uri", { kind: "conn", connId: "warehouse", field: "uri" }],
    ["conn:eu.warehouse.port", { kind: "conn", connId: "eu.warehouse", field: "port" }],
    // The last part is a field only when it names one: otherwise the dotted id is the connection.
    ["conn:eu.warehouse", { kind: "conn", connId: "eu.warehouse", field: "uri" }],
  ])("%s", (ref, expected) => expect(parseEnvFromRef(ref)).toEqual(expected as never));

  test.each([
    ["api_key", /"api_key" is not a reference; use var:KEY, conn:ID .* or conn:ID.FIELD/],
    ["variable:x", /"variable:x" is not a reference/],
    ["var:", /"var:" names no variable/],
    ["conn:", /"conn:" names no connection/],
    ["conn:.password", /"conn:.password" names no connection/],
    ["conn:my conn", /connection id "my conn" may contain only letters/],
  ])("%s is refused", (ref, message) => {
    const r = parseEnvFromRef(ref);
    expect("error" in r && r.error).toMatch(message);
  });
});

describe("envFromProblems", () => {
  test("names each bad key", () => {
    expect(
      envFromProblems({ "1BAD": "var:x", LEOFLOW_TOKEN: "var:x", GREETING: "var:g", OK: "var:ok", WRONG: "vars:x" }, { GREETING: "hi" }),
    ).toEqual([
      { key: "1BAD", message: expect.stringContaining('"1BAD" is not an environment variable name') },
      { key: "LEOFLOW_TOKEN", message: expect.stringContaining("LEOFLOW_* names are set by the agent") },
      { key: "GREETING", message: "GREETING is set in both env and env_from; keep one" },
      { key: "WRONG", message: expect.stringContaining('"vars:x" is not a reference') },
    ]);
  });
});

describe("parseDagSpec and env_from", () => {
  const dag = (task: Record<string, unknown>, default_args: Record<string, unknown> = {}) => ({
    dag_id: "d",
    default_args,
    tasks: [
      { task_id: "first", operator: "bash", bash_command: "true" },
      { task_id: "load", operator: "bash", bash_command: "true", ...task },
    ],
  });

  test("a valid env_from is kept on the task", () => {
    const spec = parseDagSpec(dag({ env_from: { API_KEY: "var:api_key", DB: "conn:warehouse" } }));
    expect(spec.tasks[1]?.env_from).toEqual({ API_KEY: "var:api_key", DB: "conn:warehouse" });
  });

  test("default_args.env_from reaches every task", () => {
    const spec = parseDagSpec(dag({}, { env_from: { TOKEN: "var:token" } }));
    expect(spec.tasks.map((t) => t.env_from)).toEqual([{ TOKEN: "var:token" }, { TOKEN: "var:token" }]);
  });

  test("a bad reference is an import error naming the task and the key", () => {
    let err: unknown;
    try {
      parseDagSpec(dag({ env_from: { API_KEY: "api_key" } }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues).toEqual([
      { path: "tasks[1].env_from.API_KEY", message: expect.stringMatching(/^task "load": "api_key" is not a reference; use var:KEY/) },
    ]);
  });

  test("a non-string reference is refused by the schema", () => {
    expect(() => parseDagSpec(dag({ env_from: { API_KEY: 1 } }))).toThrow(/tasks\[1\]\.env_from\.API_KEY/);
  });

  test("an http task's own env_from is refused (it has no environment); one from default_args is not its", () => {
    const http = { operator: "http", bash_command: undefined, http: { method: "GET", url: "http://h/{{ var.value.token }}" } };
    expect(() => parseDagSpec(dag({ ...http, env_from: { TOKEN: "var:token" } }))).toThrow(
      'tasks[1].env_from: task "load": env_from does nothing for an http task (it runs in the control plane, with no process environment); read variables and connections in the request with templates instead, e.g. {{ var.value.KEY }} or {{ conn.ID.password }}',
    );
    expect(parseDagSpec(dag(http, { env_from: { TOKEN: "var:token" } })).tasks[1]?.operator).toBe("http");
  });
});

const conn = (over: Partial<TaskConnection> = {}): TaskConnection => {
  const base = { conn_type: "postgres", host: "db", port: 5432, login: "bob", password: "s@t/1", schema: "sales", extra: null, ...over };
  return { conn_id: "warehouse", ...base, uri: connectionUri(base) };
};

describe("connections", () => {
  test.each([
    [{}, "postgres://bob:s%40t%2F1@db:5432/sales"],
    [{ password: null }, "postgres://bob@db:5432/sales"],
    [{ login: null, password: null, port: null, schema: null }, "postgres://db"],
    [
      { conn_type: "google_cloud_platform", extra: '{"project":"p","retries":3}' },
      "google-cloud-platform://bob:s%40t%2F1@db:5432/sales?project=p&retries=3",
    ],
    [{ extra: '{"nested":{"a":1}}' }, "postgres://bob:s%40t%2F1@db:5432/sales?__extra__=%7B%22nested%22%3A%7B%22a%22%3A1%7D%7D"],
  ])("connectionUri(%o) = %s", (over, uri) => expect(conn(over).uri).toBe(uri));

  test("connectionField: text of a set field, null for an unset one", () => {
    const c = conn({ schema: null });
    expect(connectionField(c, "password")).toBe("s@t/1");
    expect(connectionField(c, "port")).toBe("5432");
    expect(connectionField(c, "schema")).toBeNull();
    expect(connectionField(conn({ port: null }), "port")).toBeNull();
  });

  test("connectionSecrets: the password as written and URI-encoded, and sensitive extra fields", () => {
    expect(connectionSecrets(conn({ extra: '{"region":"eu","api_token":"tok-123","nested":{"private_key":"pk"}}' }))).toEqual([
      "s@t/1",
      "s%40t%2F1",
      "tok-123",
      "pk",
    ]);
    expect(connectionSecrets(conn({ password: null, extra: "not json" }))).toEqual([]);
  });

  test("variableSecrets: by the key or the env name it is put under", () => {
    expect(variableSecrets("api_key", "v1")).toEqual(["v1"]);
    expect(variableSecrets("db", "v2", "DB_PASSWORD")).toEqual(["v2"]);
    expect(variableSecrets("region", "eu", "REGION")).toEqual([]);
  });
});
