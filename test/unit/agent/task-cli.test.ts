import { describe, expect, test } from "bun:test";
import { runTaskCommand } from "../../../src/agent";

const client = {
  getVariable: async ({ key }: { key: string }) =>
    key === "api_key" ? { found: true, value: "key-123", secret: false } : { found: false, value: "", secret: false },
  getConnection: async ({ connId }: { connId: string }) =>
    connId === "warehouse"
      ? { found: true, connType: "postgres", host: "db", login: "etl", password: "pw", schema: "", port: 5432, extraJson: "" }
      : { found: false, connType: "", host: "", login: "", password: "", schema: "", port: 0, extraJson: "" },
};

async function run(argv: string[], env: Record<string, string> = {}, withClient = true) {
  let out = "";
  let err = "";
  const code = await runTaskCommand(argv, {
    env,
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    client: withClient ? client : undefined,
  });
  return { code, out, err };
}

describe("leoflow task", () => {
  test.each([
    [["var", "get", "api_key"], "key-123\n"],
    [["conn", "get", "warehouse"], "postgres://etl:pw@db:5432\n"],
    [["conn", "get", "warehouse", "--field", "password"], "pw\n"],
    [["conn", "get", "warehouse", "--field", "port"], "5432\n"],
  ])("%j prints %j", async (argv, out) => {
    expect(await run(argv)).toEqual({ code: 0, out, err: "" });
  });

  test("--json prints the whole connection", async () => {
    const r = await run(["conn", "get", "warehouse", "--json"]);
    expect(JSON.parse(r.out)).toEqual({
      conn_id: "warehouse",
      conn_type: "postgres",
      host: "db",
      port: 5432,
      login: "etl",
      password: "pw",
      schema: null,
      extra: null,
      uri: "postgres://etl:pw@db:5432",
    });
  });

  test.each([
    [["var", "get", "nope"], `variable "nope" does not exist in this task's team; create it with 'leoflow variables set nope VALUE'`],
    [["conn", "get", "nope"], `connection "nope" does not exist in this task's team`],
    [["conn", "get", "warehouse", "--field", "schema"], 'connection "warehouse" has no schema'],
  ])("%j exits 1 naming what is missing", async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain(message);
  });

  test.each([
    [["var", "list"], "expected 'var get KEY' or 'conn get ID', got 'var list'"],
    [
      ["conn", "get", "warehouse", "--field", "pass"],
      'unknown --field "pass"; use one of uri, conn_type, host, port, login, password, schema, extra',
    ],
    [["var", "get", "k", "--field", "host"], "--field and --json go with 'conn get'"],
    [["var", "get", "k", "--bogus"], "Unknown option '--bogus'"],
  ])("%j is bad usage (exit 2)", async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });

  test("outside a task it says what is missing", async () => {
    const r = await run(["var", "get", "api_key"], {}, false);
    expect(r.code).toBe(2);
    expect(r.err).toContain("LEOFLOW_SERVER and LEOFLOW_AGENT_TOKEN are not set: 'leoflow task' works inside a running Leoflow task");
  });
});
