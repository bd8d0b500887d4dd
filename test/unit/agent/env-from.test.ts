import { describe, expect, test } from "bun:test";
import { EnvFromError, resolveEnvFrom, type AgentClient } from "../../../src/agent";

type Conn = Awaited<ReturnType<AgentClient["getConnection"]>>;

/** A control plane with these variables (`encrypted` ones stored encrypted) and connections; counts the reads. */
function fakeClient(vars: Record<string, string>, conns: Record<string, Partial<Conn>>, encrypted: string[] = []) {
  const calls: string[] = [];
  const client = {
    getVariable: async ({ key }: { key: string }) => {
      calls.push(`var:${key}`);
      return Object.hasOwn(vars, key)
        ? { found: true, value: vars[key] ?? "", secret: encrypted.includes(key) }
        : { found: false, value: "", secret: false };
    },
    getConnection: async ({ connId }: { connId: string }) => {
      calls.push(`conn:${connId}`);
      const c = conns[connId];
      const none = { found: false, connType: "", host: "", login: "", password: "", schema: "", port: 0, extraJson: "" };
      return c ? { ...none, found: true, ...c } : none;
    },
  };
  return { client, calls };
}

const WAREHOUSE: Partial<Conn> = { connType: "postgres", host: "db", port: 5432, login: "etl", password: "pw-secret", schema: "dw" };

describe("resolveEnvFrom", () => {
  test("fills each name from its variable or connection, reading each once, and lists the secrets", async () => {
    const { client, calls } = fakeClient({ api_key: "key-123", region: "eu" }, { warehouse: WAREHOUSE });
    const r = await resolveEnvFrom(
      {
        API_KEY: "var:api_key",
        REGION: "var:region",
        DB_PASSWORD: "conn:warehouse.password",
        DB_HOST: "conn:warehouse.host",
        DB_URI: "conn:warehouse",
      },
      client,
    );
    expect(r.env).toEqual({
      API_KEY: "key-123",
      REGION: "eu",
      DB_PASSWORD: "pw-secret",
      DB_HOST: "db",
      DB_URI: "postgres://etl:pw-secret@db:5432/dw",
    });
    expect(r.secrets.sort()).toEqual(["key-123", "pw-secret"]);
    expect(calls.sort()).toEqual(["conn:warehouse", "var:api_key", "var:region"]);
  });

  test("a variable stored encrypted is a secret whatever its key", async () => {
    const { client } = fakeClient({ region: "eu-west", plain: "visible" }, {}, ["region"]);
    const r = await resolveEnvFrom({ REGION: "var:region", PLAIN: "var:plain" }, client);
    expect(r.secrets).toEqual(["eu-west"]);
  });

  test("no env_from: nothing read", async () => {
    const { client, calls } = fakeClient({}, {});
    expect(await resolveEnvFrom(undefined, client)).toEqual({ env: {}, secrets: [] });
    expect(calls).toEqual([]);
  });

  test("everything missing is named at once, never an empty value", async () => {
    const { client } = fakeClient({}, { warehouse: { ...WAREHOUSE, schema: "" } });
    const err = await resolveEnvFrom({ API_KEY: "var:api_key", DB: "conn:nope", SCHEMA: "conn:warehouse.schema" }, client).catch((e) => e);
    expect(err).toBeInstanceOf(EnvFromError);
    expect(err.message).toBe(
      "env_from could not be resolved: " +
        `API_KEY (var:api_key): variable "api_key" does not exist in this task's team; create it with 'leoflow variables set api_key VALUE' (or POST /api/v2/variables); ` +
        `DB (conn:nope): connection "nope" does not exist in this task's team; create it with 'leoflow connections add nope --conn-uri URI' (or POST /api/v2/connections); ` +
        `SCHEMA (conn:warehouse.schema): connection "warehouse" has no schema; set it or drop SCHEMA`,
    );
  });

  test("a control plane that refuses is reported with the name it was reading", async () => {
    const client = {
      getVariable: async () => {
        throw new Error("GetVariable: [permission_denied] try is over");
      },
      getConnection: async () => {
        throw new Error("unused");
      },
    };
    await expect(resolveEnvFrom({ TOKEN: "var:token" }, client)).rejects.toThrow(
      "env_from could not be resolved: TOKEN (var:token): could not be read: GetVariable: [permission_denied] try is over",
    );
  });
});
