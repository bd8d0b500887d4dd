/** buildHttpCall: templating into every field, connections (base URL, auth), and what logs may show. */
import { describe, expect, test } from "bun:test";
import type { TemplateContext } from "../../../src/domain";
import { baseUrl, buildHttpCall, httpTemplateTexts, plainHttpCall, safeText } from "../../../src/executors";
import type { ConnectionRecord } from "../../../src/domain";

const ctx: TemplateContext = {
  dag_id: "etl",
  run_id: "r1",
  task_id: "call",
  try_number: 1,
  logical_date: new Date("2026-03-01T00:00:00Z"),
  params: { limit: 5 },
  conf: {},
  xcom: { extract: { rows: 42 } },
  var: { api_key: "KEY-123456", region: "eu" },
};

const conn = (over: Partial<ConnectionRecord> = {}): ConnectionRecord => ({
  connection_id: "svc",
  conn_type: "http",
  description: null,
  host: "api.example.com",
  login: null,
  password: null,
  schema: null,
  port: null,
  extra: null,
  ...over,
});

describe("buildHttpCall", () => {
  test("templates url, query, headers and a JSON body; defaults for timeout and retries", () => {
    const { call } = buildHttpCall(
      {
        method: "POST",
        url: "http://h:8080/jobs/{{ ds }}",
        query: { limit: "{{ params.limit }}", region: "{{ var.region }}", n: 3 },
        headers: { "X-Run": "{{ run_id }}" },
        json: { rows: "{{ xcom.extract.rows }}", label: "rows: {{ xcom.extract.rows }}" },
      },
      ctx,
      null,
    );
    expect(call.url).toBe("http://h:8080/jobs/2026-03-01?limit=5&region=eu&n=3");
    expect(call.headers).toEqual({ "x-run": "r1", "content-type": "application/json" });
    expect(JSON.parse(call.body!)).toEqual({ rows: 42, label: "rows: 42" });
    expect(call.timeoutSeconds).toBe(30);
    expect(call.retries).toBe(3);
  });

  test("a text body is templated and sent as text/plain unless a content-type is given", () => {
    const { call } = buildHttpCall(
      { method: "PUT", url: "http://h/x", body: "n={{ xcom.extract.rows }}", headers: { "Content-Type": "text/csv" } },
      ctx,
      null,
    );
    expect(call.body).toBe("n=42");
    expect(call.headers["content-type"]).toBe("text/csv");
  });

  test("the log-safe URL drops userinfo and masks sensitive query values and known secrets", () => {
    const built = buildHttpCall(
      {
        method: "GET",
        url: "http://user:pa55word@h/p/{{ var.api_key }}",
        query: { api_key: "{{ var.api_key }}", token: "abc", page: "2" },
      },
      ctx,
      null,
    );
    expect(built.call.url).toBe("http://h/p/KEY-123456?api_key=KEY-123456&token=abc&page=2");
    expect(built.call.headers.authorization).toBe(`Basic ${btoa("user:pa55word")}`);
    expect(built.call.safeUrl).toBe("http://h/p/***?api_key=***&token=***&page=2");
    expect(built.secrets).toContain("pa55word");
  });

  test("a relative URL without a connection is an error saying how to fix it", () => {
    expect(() => buildHttpCall({ method: "GET", url: "/jobs" }, ctx, null)).toThrow('http.url "/jobs" is not an absolute URL');
  });

  test("a missing connection is named", () => {
    expect(() => buildHttpCall({ method: "GET", url: "/jobs", connection_id: "nope" }, ctx, null)).toThrow(
      'connection "nope" does not exist; create it with POST /api/v2/connections',
    );
  });
});

describe("connections", () => {
  test.each([
    ["host only", conn(), "http://api.example.com"],
    ["https conn_type", conn({ conn_type: "https" }), "https://api.example.com"],
    ["scheme in host wins", conn({ host: "https://api.example.com/", conn_type: "http" }), "https://api.example.com"],
    ["schema https is the scheme (Airflow)", conn({ schema: "https" }), "https://api.example.com"],
    ["other schema is a path prefix", conn({ schema: "v1", port: 8443 }), "http://api.example.com:8443/v1"],
    ["port in host is kept", conn({ host: "h:9000", port: 1 }), "http://h:9000"],
  ])("%s", (_name, c, want) => expect(baseUrl(c)).toBe(want));

  test("relative URL joins the base; login+password → Basic; the password never reaches the safe URL", () => {
    const c = conn({ schema: "v1", login: "bot", password: "s3cr3t!" });
    const { call, secrets } = buildHttpCall({ method: "GET", url: "/jobs/{{ run_id }}", connection_id: "svc" }, ctx, c);
    expect(call.url).toBe("http://api.example.com/v1/jobs/r1");
    expect(call.headers.authorization).toBe(`Basic ${btoa("bot:s3cr3t!")}`);
    expect(secrets).toContain("s3cr3t!");
  });

  test("extra.token → Bearer; conn_type bearer uses the password; extra.headers merge; task headers win", () => {
    const tok = buildHttpCall(
      { method: "GET", url: "x", connection_id: "svc", headers: { "X-Team": "mine" } },
      ctx,
      conn({ login: "ignored", extra: JSON.stringify({ token: "T0K3N", headers: { "X-Team": "conn", "X-Env": "prod" } }) }),
    );
    expect(tok.call.headers).toEqual({ "x-team": "mine", "x-env": "prod", authorization: "Bearer T0K3N" });
    const bearer = buildHttpCall({ method: "GET", url: "x", connection_id: "svc" }, ctx, conn({ conn_type: "bearer", password: "PW-9" }));
    expect(bearer.call.headers.authorization).toBe("Bearer PW-9");
    const own = buildHttpCall(
      { method: "GET", url: "x", connection_id: "svc", headers: { Authorization: "Token mine" } },
      ctx,
      conn({ password: "p", login: "u" }),
    );
    expect(own.call.headers.authorization).toBe("Token mine");
  });

  test("safeText masks secrets and their URL-encoded form", () => {
    expect(safeText("a=p@ss w0rd&b=p%40ss%20w0rd", ["p@ss w0rd"])).toBe("a=***&b=***");
  });
});

describe("plainHttpCall (a request with no template and no connection, built once per spec)", () => {
  const texts = (http: Parameters<typeof httpTemplateTexts>[0]) => () => httpTemplateTexts(http);

  test("built once for its spec, as buildHttpCall builds it in any try's context", () => {
    const http = {
      method: "POST" as const,
      url: "http://user:s3cret@h:8080/jobs?token=abc",
      query: { n: 3 },
      headers: { "X-Api-Key": "KEY-999999" },
      json: { rows: [1, 2], label: "plain" },
    };
    let scans = 0;
    const first = plainHttpCall(http, () => (scans++, httpTemplateTexts(http)));
    // A try's context holds only the variables its templates name: none here.
    expect(first).toEqual(buildHttpCall(http, { ...ctx, var: {} }, null));
    expect(plainHttpCall(http, () => (scans++, httpTemplateTexts(http)))).toBe(first);
    expect(scans).toBe(1);
    // What logs may show is masked as before: the URL's password and the sensitive header's value.
    expect(first!.call.safeUrl).not.toContain("s3cret");
    expect(first!.secrets).toEqual(expect.arrayContaining(["s3cret", "KEY-999999"]));
  });

  test("a template anywhere, or a connection, needs a try's context: null, and asked again stays null", () => {
    for (const http of [
      { method: "GET" as const, url: "http://h/{{ ds }}" },
      { method: "GET" as const, url: "http://h/x", headers: { "X-Run": "{{ run_id }}" } },
      { method: "GET" as const, url: "http://h/x", query: { r: "{{ var.region }}" } },
      { method: "POST" as const, url: "http://h/x", json: { deep: ["{{ xcom.extract.rows }}"] } },
      { method: "POST" as const, url: "http://h/x", body: "n={{ params.limit }}" },
      { method: "GET" as const, url: "/status", connection_id: "svc" },
    ]) {
      expect(plainHttpCall(http, texts(http))).toBeNull();
      expect(plainHttpCall(http, texts(http))).toBeNull();
    }
  });

  test("a request that does not build throws on every try, not once", () => {
    const http = { method: "GET" as const, url: "not a url" };
    expect(() => plainHttpCall(http, texts(http))).toThrow("is not an absolute URL");
    expect(() => plainHttpCall(http, texts(http))).toThrow("is not an absolute URL");
  });
});
