/**
 * Under --auth none every route is open to whoever reaches the port, so the API refuses what a web page of another
 * site could send it through the user's browser: writes marked cross-site (Sec-Fetch-Site, or an Origin that is
 * not the server's own address), and any request to a host name that is not loopback (a DNS-rebound name). Found
 * by hand: a form post with a text/plain body from any page triggered a run. A refused request changes nothing.
 */
import { describe, expect, test } from "bun:test";
import { makeHarness } from "./harness";

const trigger = (headers: Record<string, string>, body: unknown = { logical_date: null, dag_run_id: "from_a_page" }) => ({
  token: null,
  headers,
  body: typeof body === "string" ? body : JSON.stringify(body),
});

describe("--auth none: the open API refuses what a web page of another site sends", () => {
  test.each([
    ["a form post from another site", { "content-type": "text/plain", origin: "http://evil.example", "sec-fetch-site": "cross-site" }],
    ["a write from a sibling site's page (same-site)", { origin: "http://127.0.0.1:9999", "sec-fetch-site": "same-site" }],
    ["an Origin of another address (a browser without Sec-Fetch-Site)", { origin: "http://evil.example", host: "127.0.0.1:8080" }],
    ["the opaque Origin of a sandboxed page", { origin: "null", host: "127.0.0.1:8080" }],
  ])("%s → 403, no run", async (_name, headers) => {
    const h = await makeHarness({ auth: false });
    const r = await h.json("POST", "/api/v2/dags/etl/dagRuns", trigger(headers));
    expect(r.status).toBe(403);
    expect(r.body.detail).toStartWith("Forbidden: a cross-site POST is refused (");
    expect(r.body.detail).toContain("Call the API from a script");
    expect(await h.store.getDagRun("default", "etl", "from_a_page")).toBeNull();
  });

  test("a name that is not loopback (DNS rebinding) is refused even for reads; loopback names are served", async () => {
    const h = await makeHarness({ auth: false });
    const rebound = await h.json("GET", "/api/v2/dags", { token: null, headers: { host: "evil.example:8080" } });
    expect(rebound.status).toBe(403);
    expect(rebound.body.detail).toContain(
      'answers only requests addressed to a loopback name (localhost, 127.0.0.1, [::1]), not to "evil.example:8080"',
    );
    for (const host of ["127.0.0.1:8080", "localhost:8080", "[::1]:8080", "leoflow.localhost", "LOCALHOST."])
      expect((await h.call("GET", "/api/v2/dags", { token: null, headers: { host } })).status).toBe(200);
  });

  test("scripts (no Origin), the UI's own same-origin writes and typed addresses still write", async () => {
    const h = await makeHarness({ auth: false });
    const cases: Record<string, string>[] = [
      { host: "127.0.0.1:8080" },
      { host: "127.0.0.1:8080", origin: "http://127.0.0.1:8080", "sec-fetch-site": "same-origin" },
      { host: "localhost:8080", origin: "http://localhost:8080" },
      { host: "localhost:8080", "sec-fetch-site": "none" },
    ];
    for (const [i, headers] of cases.entries())
      expect(
        (await h.call("POST", "/api/v2/dags/etl/dagRuns", trigger(headers, { logical_date: null, dag_run_id: `ok${i}` }))).status,
      ).toBe(200);
    expect((await h.store.listDagRuns("default", { dag_id: "etl" })).items.map((r) => r.run_id).sort()).toEqual([
      "ok0",
      "ok1",
      "ok2",
      "ok3",
    ]);
  });

  test("with tokens (--auth jwt) the guard is not mounted: a proxy may rewrite Host, and a page has no token", async () => {
    const h = await makeHarness();
    const r = await h.call("GET", "/api/v2/dags", { headers: { host: "leoflow.example.com", origin: "https://leoflow.example.com" } });
    expect(r.status).toBe(200);
  });
});
