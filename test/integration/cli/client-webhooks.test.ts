/** `leoflow webhooks list|create|delete` against a scripted server: the calls made and what the user sees. */
import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ClientIo, runClient } from "../../../src/cli/client";

function scripted(reply: (method: string, path: string, body: unknown) => { status: number; body?: unknown }) {
  const calls: { method: string; path: string; body: unknown }[] = [];
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
      const body = init.body ? JSON.parse(String(init.body)) : undefined;
      calls.push({ method: init.method ?? "GET", path: url.pathname, body });
      const r = reply(init.method ?? "GET", url.pathname, body);
      return new Response(r.body === undefined ? null : JSON.stringify(r.body), { status: r.status });
    },
  };
  return { io, calls };
}

const HOOK = {
  id: 7,
  url: "https://hooks.example.com/x",
  event_types: ["dag_run.finished"],
  dag_ids: ["etl"],
  enabled: true,
  description: null,
};

test("webhooks create sends the lists and the secret; list shows a table; delete confirms", async () => {
  const { io, calls } = scripted((method) =>
    method === "POST"
      ? { status: 201, body: HOOK }
      : method === "DELETE"
        ? { status: 204 }
        : { status: 200, body: { webhooks: [HOOK], total_entries: 1 } },
  );
  expect(
    await runClient(["webhooks", "create", HOOK.url, "--events", "dag_run.finished", "--dags", "etl", "--secret", "0123456789abcdef"], io),
  ).toBe(0);
  expect(calls[0]).toEqual({
    method: "POST",
    path: "/api/v2/leoflow/webhooks",
    body: { url: HOOK.url, event_types: ["dag_run.finished"], dag_ids: ["etl"], secret: "0123456789abcdef", description: null },
  });
  expect(io.stdout).toBe("webhook 7 created: https://hooks.example.com/x\n");
  expect(await runClient(["webhooks", "list"], io)).toBe(0);
  expect(io.stdout).toContain(
    "ID  URL                          EVENTS            DAGS  ENABLED  DESCRIPTION\n7   https://hooks.example.com/x  dag_run.finished  etl   yes\n",
  );
  expect(await runClient(["webhooks", "delete", "7"], io)).toBe(0);
  expect(calls.at(-1)).toMatchObject({ method: "DELETE", path: "/api/v2/leoflow/webhooks/7" });
  expect(io.stdout).toEndWith("webhook 7 deleted\n");
});

test("webhooks create without --events or --secret is a usage error that calls nothing; the server's 400 is printed", async () => {
  const { io, calls } = scripted(() => ({ status: 400, body: { detail: 'unknown event type "x"; valid types: *, …' } }));
  expect(await runClient(["webhooks", "create", "https://h.example/"], io)).toBe(2);
  expect(io.stderr).toContain("needs --events LIST (or --events '*') and --secret SECRET");
  expect(calls).toEqual([]);
  expect(await runClient(["webhooks", "create", "https://h.example/", "--events", "x", "--secret", "0123456789abcdef"], io)).toBe(1);
  expect(io.stderr).toContain('leoflow webhooks create: unknown event type "x"; valid types: *, …');
});
