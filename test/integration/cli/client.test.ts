/**
 * The client's commands against a scripted server (a fetch double answering per method and path): what the
 * user sees on stdout and stderr, and the exit code.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ClientIo, runClient } from "../../../src/cli/client";

type Reply = { status?: number; body?: unknown; text?: string; headers?: Record<string, string> };
type Route = (url: URL, init: RequestInit) => Reply;

function scripted(routes: Record<string, Route | Reply>) {
  const calls: { method: string; url: URL; body: unknown; auth: string | null }[] = [];
  const io: ClientIo & { stdout: string; stderr: string } = {
    stdout: "",
    stderr: "",
    out: (t) => void (io.stdout += t),
    err: (t) => void (io.stderr += t),
    env: { LEOFLOW_SERVER: "http://leoflow.test", LEOFLOW_TOKEN: "tok", XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), "leoflow-cli-")) },
    home: "/nonexistent",
    columns: undefined,
    readStdin: async () => "",
    askPassword: null,
    sleep: async () => {},
    fetch: async (input, init = {}) => {
      const url = new URL(input);
      const method = init.method ?? "GET";
      calls.push({
        method,
        url,
        body: init.body ? JSON.parse(String(init.body)) : undefined,
        auth: (init.headers as Record<string, string>).authorization ?? null,
      });
      const route = routes[`${method} ${url.pathname}`];
      if (!route) return Response.json({ detail: `no route ${method} ${url.pathname}` }, { status: 404 });
      const r = typeof route === "function" ? route(url, init) : route;
      const text = r.text ?? (r.body === undefined ? "" : JSON.stringify(r.body));
      return new Response(r.status === 204 ? null : text, { status: r.status ?? 200, headers: r.headers });
    },
  };
  return { io, calls };
}

describe("client commands", () => {
  test("a refused token exits 1 with the server's detail and how to log in again", async () => {
    const { io, calls } = scripted({ "GET /api/v2/dags": { status: 401, body: { detail: "Not authenticated: token expired" } } });
    expect(await runClient(["dags", "list"], io)).toBe(1);
    expect(io.stderr).toBe(
      "leoflow dags list: Not authenticated: token expired\n(log in again: leoflow login --server http://leoflow.test)\n",
    );
    expect(calls[0]!.auth).toBe("Bearer tok");
  });

  test("FastAPI validation details print as field: message lines", async () => {
    const detail = [{ loc: ["body", "conf"], msg: "Input should be an object", type: "dict_type" }];
    const { io } = scripted({ "POST /api/v2/dags/etl/dagRuns": { status: 422, body: { detail } } });
    expect(await runClient(["dags", "trigger", "etl"], io)).toBe(1);
    expect(io.stderr).toBe("leoflow dags trigger: body.conf: Input should be an object\n");
  });

  test("a list is a table, and says when the server has more than it showed", async () => {
    const body = { variables: [{ key: "a", value: "1", description: null }], total_entries: 3 };
    const { io, calls } = scripted({ "GET /api/v2/variables": { body } });
    expect(await runClient(["variables", "list", "--limit", "1"], io)).toBe(0);
    expect(io.stdout).toBe("KEY  VALUE  DESCRIPTION\na    1\n");
    expect(io.stderr).toContain("1 of 3 shown");
    expect(calls[0]!.url.searchParams.get("limit")).toBe("1");
  });

  test("--output json prints the server's body as it came", async () => {
    const text = '{"dag_id":"etl",  "is_paused":true}';
    const { io } = scripted({ "GET /api/v2/dags/etl": { text } });
    expect(await runClient(["dags", "get", "etl", "-o", "json"], io)).toBe(0);
    expect(io.stdout).toBe(text + "\n");
  });

  test("variables set creates the variable when it does not exist yet", async () => {
    const { io, calls } = scripted({
      "PATCH /api/v2/variables/new%20key": { status: 404, body: { detail: "The Variable with key: `new key` was not found" } },
      "POST /api/v2/variables": { status: 201, body: { key: "new key", value: "v" } },
    });
    expect(await runClient(["variables", "set", "new key", "v"], io)).toBe(0);
    expect(io.stdout).toBe("variable new key set\n");
    expect(calls.map((c) => c.method)).toEqual(["PATCH", "POST"]);
    expect(calls[1]!.body).toEqual({ key: "new key", value: "v" });
  });

  test("trigger sends conf, run id and a null logical date; bad --conf is a usage error", async () => {
    const { io, calls } = scripted({ "POST /api/v2/dags/etl/dagRuns": { body: { dag_run_id: "r1", state: "queued" } } });
    expect(await runClient(["dags", "trigger", "etl", "--conf", '{"n":2}', "--run-id", "r1"], io)).toBe(0);
    expect(calls[0]!.body).toEqual({ dag_run_id: "r1", logical_date: null, conf: { n: 2 } });
    expect(io.stdout).toBe("dag_run_id  r1\nstate       queued\n");
    expect(await runClient(["dags", "trigger", "etl", "--conf", "[1]"], io)).toBe(2);
    expect(io.stderr).toContain("dags trigger: --conf must be a JSON object");
  });

  test("pools set NAME -1 sends unlimited slots, as its help says", async () => {
    const { io, calls } = scripted({ "PATCH /api/v2/pools/p1": { body: { name: "p1", slots: -1 } } });
    expect(await runClient(["pools", "set", "p1", "-1"], io)).toBe(0);
    expect(io.stderr).toBe("");
    expect(calls[0]!.body).toEqual({ name: "p1", slots: -1 });
  });

  test("without any server to call it is a usage error that says how to name one", async () => {
    const { io } = scripted({});
    io.env = { XDG_CONFIG_HOME: io.env.XDG_CONFIG_HOME };
    expect(await runClient(["pools", "list"], io)).toBe(2);
    expect(io.stderr).toContain("which server? Pass --server URL");
  });

  test("login stores the token for later commands; logout forgets it", async () => {
    const { io, calls } = scripted({
      "POST /auth/token": { status: 201, body: { access_token: "fresh", token_type: "bearer" } },
      "GET /api/v2/pools": { body: { pools: [], total_entries: 0 } },
    });
    io.env = { XDG_CONFIG_HOME: io.env.XDG_CONFIG_HOME };
    io.readStdin = async () => "pw\n";
    expect(await runClient(["login", "--server", "leoflow.test", "--password-stdin"], io)).toBe(0);
    expect(calls[0]!.body).toEqual({ username: "admin", password: "pw" });
    expect(await runClient(["pools", "list"], io)).toBe(0);
    expect(calls[1]!.auth).toBe("Bearer fresh");
    expect(await runClient(["logout"], io)).toBe(0);
    expect(io.stdout).toContain("logged out of http://leoflow.test");
    expect(await runClient(["pools", "list"], io)).toBe(2);
  });

  test("login without a terminal or --password-stdin asks for the flag", async () => {
    const { io } = scripted({});
    expect(await runClient(["login"], io)).toBe(2);
    expect(io.stderr).toContain("--password-stdin");
  });
});

describe("tasks logs --follow", () => {
  test("prints new lines as they come, passes the continuation token back, and stops when the try ends", async () => {
    const states = ["running", "running", "success"];
    const pages = [
      { text: "[t] line 1\n", headers: { "x-continuation-token": "1" } },
      { text: "", headers: { "x-continuation-token": "1" } },
      { text: "[t] line 2\n[t] done\n", headers: { "x-continuation-token": "3" } },
    ];
    const tokens: (string | null)[] = [];
    const { io } = scripted({
      "GET /api/v2/dags/d/dagRuns/r/taskInstances/t": () => ({ body: { state: states.shift() ?? "success", try_number: 1 } }),
      "GET /api/v2/dags/d/dagRuns/r/taskInstances/t/logs/1": (url) => {
        tokens.push(url.searchParams.get("token"));
        return pages.shift() ?? { text: "" };
      },
    });
    expect(await runClient(["tasks", "logs", "d", "r", "t", "--follow"], io)).toBe(0);
    expect(io.stdout).toBe("[t] line 1\n[t] line 2\n[t] done\n");
    expect(tokens).toEqual([null, "1", "1"]);
  });

  test("a try that has not started yet is waited for; a retry ends the followed try", async () => {
    const tis = [
      { state: null, try_number: 1 },
      { state: "running", try_number: 1 },
      { state: "up_for_retry", try_number: 1 },
    ];
    let reads = 0;
    const { io } = scripted({
      "GET /api/v2/dags/d/dagRuns/r/taskInstances/t": () => ({ body: tis.shift() ?? { state: "running", try_number: 2 } }),
      "GET /api/v2/dags/d/dagRuns/r/taskInstances/t/logs/1": () => ({ text: `read ${++reads}\n` }),
    });
    expect(await runClient(["tasks", "logs", "d", "r", "t", "-f"], io)).toBe(0);
    expect(io.stdout).toBe("read 1\nread 2\nread 3\n");
  });

  test("a try past the last one of a finished task lets the server say why (exit 1)", async () => {
    const { io } = scripted({
      "GET /api/v2/dags/d/dagRuns/r/taskInstances/t": { body: { state: "success", try_number: 1 } },
      "GET /api/v2/dags/d/dagRuns/r/taskInstances/t/logs/5": { status: 404, body: { detail: "t has no try 5: tries run from 1 to 1" } },
    });
    expect(await runClient(["tasks", "logs", "d", "r", "t", "--follow", "--try", "5"], io)).toBe(1);
    expect(io.stderr).toContain("t has no try 5");
  });
});
