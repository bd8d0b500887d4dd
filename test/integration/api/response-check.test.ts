/** The harness's response check fires: a wrong body or an undeclared status fails the test, naming path and field. */
import { describe, expect, test } from "bun:test";
import { forEachApiStore } from "./harness";
import { checkResponseBody, ResponseSchemaError } from "./response-check";

forEachApiStore((makeHarness) => {
  const JSON_TYPE = "application/json";

  describe("response check", () => {
    test("a real answer passes", async () => {
      const h = await makeHarness();
      expect((await h.call("GET", "/api/v2/dags/etl")).status).toBe(200);
    });

    test("a body with a field of the wrong type fails, naming the path and the field", async () => {
      const h = await makeHarness();
      const good = (await h.json("GET", "/api/v2/dags/etl")).body;
      const bad = JSON.stringify({ ...good, is_paused: "no" });
      expect(() => checkResponseBody("GET", "/api/v2/dags/etl", 200, JSON_TYPE, bad)).toThrow(ResponseSchemaError);
      expect(() => checkResponseBody("GET", "/api/v2/dags/etl", 200, JSON_TYPE, bad)).toThrow(/GET \/api\/v2\/dags\/etl .*is_paused/);
    });

    test("a missing required field in a list item names its index", () => {
      const body = JSON.stringify({ pools: [{ name: "p" }], total_entries: 1 });
      expect(() => checkResponseBody("GET", "/api/v2/pools", 200, JSON_TYPE, body)).toThrow(/pools\.0\.slots/);
    });

    test("a status the route does not declare fails", () => {
      expect(() => checkResponseBody("GET", "/api/v2/version", 404, JSON_TYPE, '{"detail":"x"}')).toThrow(
        /404, a status the route does not declare/,
      );
    });

    test("a 204 with a body fails; a JSON route answering text fails", () => {
      expect(() => checkResponseBody("DELETE", "/api/v2/pools/p", 204, "", "oops")).toThrow(/declares none/);
      expect(() => checkResponseBody("GET", "/api/v2/pools/p", 200, "text/plain", "p")).toThrow(/declared application\/json/);
    });
  });
});
