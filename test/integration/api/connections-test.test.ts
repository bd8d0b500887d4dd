/**
 * POST /api/v2/connections/test against real endpoints: an HTTP server of the test's own, and the test
 * Postgres (LEOFLOW_TEST_PG; the postgres case says so and skips when none answers).
 */
import { describe, expect, test } from "bun:test";
import { forEachApiStore } from "./harness";

forEachApiStore((makeHarness) => {
  describe("POST /api/v2/connections/test (enabled)", () => {
    test("http: a reachable base URL passes, a 500 fails with its status", async () => {
      const server = Bun.serve({
        port: 0,
        hostname: "127.0.0.1",
        fetch: (req) => new Response("", { status: new URL(req.url).pathname === "/" ? 200 : 500 }),
      });
      try {
        const h = await makeHarness({ api: { testConnection: true } });
        const ok = await h.json("POST", "/api/v2/connections/test", {
          body: { connection_id: "t", conn_type: "http", host: "127.0.0.1", port: server.port },
        });
        expect(ok).toEqual({ status: 200, body: { status: true, message: "Connection successfully tested" } });
        const bad = await h.json("POST", "/api/v2/connections/test", {
          body: { connection_id: "t", conn_type: "http", host: `http://127.0.0.1:${server.port}/broken` },
        });
        expect(bad.body.status).toBe(false);
        expect(bad.body.message).toContain("500");
      } finally {
        server.stop(true);
      }
    });

    test("postgres: connects and runs SELECT 1; a wrong port fails with the reason", async () => {
      const url = new URL(process.env.LEOFLOW_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test");
      const h = await makeHarness({ api: { testConnection: true } });
      const conn = {
        connection_id: "pg",
        conn_type: "postgres",
        host: url.hostname,
        port: Number(url.port || 5432),
        login: url.username,
        schema: url.pathname.slice(1),
      };
      const ok = await h.json("POST", "/api/v2/connections/test", { body: conn });
      if (!ok.body.status && /ECONNREFUSED|connect/i.test(ok.body.message) && process.env.CI !== "true")
        return console.log("postgres not reachable: skipping the postgres case");
      expect(ok.body).toEqual({ status: true, message: "Connection successfully tested" });
      const bad = await h.json("POST", "/api/v2/connections/test", { body: { ...conn, port: 1 } });
      expect(bad.body.status).toBe(false);
      expect(bad.body.message.length).toBeGreaterThan(0);
    });
  });
});
