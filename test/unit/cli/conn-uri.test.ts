import { describe, expect, test } from "bun:test";
import { parseConnectionUri } from "../../../src/cli/client/conn-uri";

describe("parseConnectionUri", () => {
  test("splits an Airflow connection URI into fields, percent-decoded", () => {
    expect(parseConnectionUri("postgres://bob:s%40cret@db.example:5432/sales")).toEqual({
      conn_type: "postgres",
      login: "bob",
      password: "s@cret",
      host: "db.example",
      port: 5432,
      schema: "sales",
    });
  });
  test("query parameters become the JSON extra; __extra__ holds it whole", () => {
    expect(parseConnectionUri("http://api.example?timeout=5&verify=false")).toEqual({
      conn_type: "http",
      host: "api.example",
      extra: '{"timeout":"5","verify":"false"}',
    });
    expect(parseConnectionUri('my-type://?__extra__={"a":1}').extra).toBe('{"a":1}');
    expect(parseConnectionUri("my-type://").conn_type).toBe("my_type");
  });
  test("something that is not a URI says how to write one", () => {
    expect(() => parseConnectionUri("just-a-host")).toThrow("TYPE://LOGIN:PASSWORD@HOST:PORT/SCHEMA");
    expect(() => parseConnectionUri("x://u:%zz@h")).toThrow("percent-encoding");
  });
});
