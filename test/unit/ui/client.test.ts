import { describe, expect, test } from "bun:test";
import { authHeaders, detailText } from "../../../src/ui/app/api";
import { formatDuration } from "../../../src/ui/app/format";
import { dagHref, parseRoute } from "../../../src/ui/app/router";
import { capabilities, openSession, sessionFromToken, setSession } from "../../../src/ui/app/session";
import { SseParser } from "../../../src/ui/app/sse";

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
const jwt = (claims: unknown) => `${b64({ alg: "HS256" })}.${b64(claims)}.sig`;

describe("the headers every request carries", () => {
  test("a signed-in session sends its token; a server with --auth=none (the open session) gets none", () => {
    const token = jwt({ sub: "ann", role: "op", exp: 99, kind: "user" });
    setSession(sessionFromToken(token));
    expect(authHeaders()).toEqual({ authorization: `Bearer ${token}` });
    setSession(openSession());
    expect(authHeaders()).toEqual({});
    expect(capabilities(openSession().role)).toEqual({ editRuns: true, editDags: true, ops: true, users: true });
    setSession(null);
    expect(authHeaders()).toEqual({});
  });
});

describe("session from the token's claims", () => {
  test("reads who and which role", () => {
    expect(sessionFromToken(jwt({ sub: "ann", role: "viewer", exp: 99, kind: "user" }))).toEqual({
      token: jwt({ sub: "ann", role: "viewer", exp: 99, kind: "user" }),
      username: "ann",
      role: "viewer",
      exp: 99,
    });
  });
  test("refuses a token without a known role", () => {
    expect(sessionFromToken(jwt({ sub: "ann", role: "root", exp: 1 }))).toBeNull();
    expect(sessionFromToken("not-a-jwt")).toBeNull();
  });
  test("a Viewer gets no write buttons, an Op no users page", () => {
    expect(capabilities("viewer")).toEqual({ editRuns: false, editDags: false, ops: false, users: false });
    expect(capabilities("user")).toEqual({ editRuns: true, editDags: true, ops: false, users: false });
    expect(capabilities("op").users).toBe(false);
    expect(capabilities("admin").users).toBe(true);
  });
});

describe("routes", () => {
  test("Airflow 3's URLs parse to pages, run ids with : and + included", () => {
    expect(parseRoute("/", "")).toEqual({ page: "dags" });
    expect(parseRoute("/dags/etl", "?tab=graph")).toEqual({ page: "dag", dagId: "etl", tab: "graph" });
    const href = dagHref("etl", { runId: "manual__2026-01-01T00:00:00+00:00", taskId: "load", tryNumber: 2 });
    const u = new URL(href, "http://x");
    expect(parseRoute(u.pathname, u.search)).toEqual({
      page: "dag",
      dagId: "etl",
      tab: "grid",
      runId: "manual__2026-01-01T00:00:00+00:00",
      taskId: "load",
      tryNumber: 2,
    });
    // A mapped task's instance, as Airflow 3 writes it: …/tasks/:task_id/mapped/:map_index.
    const instance = new URL(dagHref("fan", { runId: "r1", taskId: "each", mapIndex: 7, tryNumber: 2 }), "http://x");
    expect(instance.pathname).toBe("/dags/fan/runs/r1/tasks/each/mapped/7");
    expect(parseRoute(instance.pathname, instance.search)).toEqual({
      page: "dag",
      dagId: "fan",
      tab: "grid",
      runId: "r1",
      taskId: "each",
      mapIndex: 7,
      tryNumber: 2,
    });
    for (const bad of ["-1", "x", "1.5", ""]) expect(parseRoute(`/dags/fan/runs/r1/tasks/each/mapped/${bad}`, "").page).toBe("not_found");
    expect(parseRoute("/pools", "")).toEqual({ page: "pools" });
    expect(parseRoute("/nope/x", "")).toEqual({ page: "not_found", path: "/nope/x" });
  });
});

describe("SSE parsing", () => {
  test("events split across chunks come out whole, with their id; comments are skipped", () => {
    const p = new SseParser();
    expect(p.feed(": leoflow events\nretry: 2000\n\nid: 7\nevent: dag_run.created\nda")).toEqual([]);
    expect(p.feed('ta: {"a":1}\n\n: keepalive\n\n')).toEqual([{ id: "7", event: "dag_run.created", data: '{"a":1}' }]);
  });
  test("CRLF line ends and multi-line data", () => {
    expect(new SseParser().feed("data: a\r\ndata: b\r\n\r\n")).toEqual([{ id: null, event: "message", data: "a\nb" }]);
  });
});

describe("what the UI prints", () => {
  test("API details become one line", () => {
    expect(detailText("nope", 404)).toBe("nope");
    expect(detailText([{ loc: ["body", "x"], msg: "Field required" }], 422)).toBe("body.x: Field required");
    expect(detailText(null, 500)).toBe("HTTP 500");
  });
  test("durations", () => {
    expect(formatDuration(0.25)).toBe("250ms");
    expect(formatDuration(75)).toBe("1m 15s");
    expect(formatDuration(3700)).toBe("1h 1m");
    expect(formatDuration(null)).toBe("—");
  });
});
