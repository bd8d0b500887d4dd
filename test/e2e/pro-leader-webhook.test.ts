/**
 * Pro: scheduler.leader_changed names the replica that leads by its host, pid and the URL agents reach it at, so
 * replicas on one host (or hosts named alike) are told apart (a tester saw "leader":"vm" for every replica). A
 * replica started again on the same schema leads and its webhook gets the event; the compiled binary throughout.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describePg, freshSchemas, pgUrlWithSchema } from "../support/postgres";
import { proFlags } from "../support/pro-cluster";
import { ADMIN_PASSWORD, startLeoflow, waitFor } from "./harness";

describePg("scheduler.leader_changed (compiled binary, Pro)", () => {
  const hits: Record<string, unknown>[] = [];
  let receiver: ReturnType<typeof Bun.serve>;
  beforeAll(() => {
    receiver = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(req) {
        hits.push((await req.json()) as Record<string, unknown>);
        return new Response("ok");
      },
    });
  });
  afterAll(() => receiver?.stop(true));
  const schemas = freshSchemas();

  test("the event names the new leader's host, pid and URL", async () => {
    const db = pgUrlWithSchema(schemas.next());
    const dir = mkdtempSync(join(tmpdir(), "leoflow-pro-leader-"));
    mkdirSync(join(dir, "dags"));
    const pro = [...proFlags(db), "--leader-poll", "1"];
    const first = await startLeoflow({ dir, args: pro });
    const created = await first.api("POST", "/api/v2/leoflow/webhooks", {
      url: `http://127.0.0.1:${receiver.port}/hook`,
      event_types: ["scheduler.leader_changed"],
      secret: "0123456789abcdef0123",
    });
    expect(created.status).toBe(201);
    expect(await first.stop()).toBe(0);
    const again = await startLeoflow({ dir, args: pro });
    try {
      await waitFor(
        async () => hits.length > 0,
        20_000,
        () => again.output(),
      );
      const leader = String(hits[0]!.leader);
      expect(leader).toMatch(new RegExp(`^\\S+ pid ${again.proc.pid} ${again.url.replace(/[.]/g, "\\.")}$`));
    } finally {
      await again.stop();
    }
  }, 90_000);

  test("the event stream carries it too, on every replica: a follower streams the leader's event with its host, pid and URL", async () => {
    const db = pgUrlWithSchema(schemas.next());
    const dir = mkdtempSync(join(tmpdir(), "leoflow-pro-leader-sse-"));
    for (const r of ["r1", "r2"]) mkdirSync(join(dir, r, "dags"), { recursive: true });
    const pro = [...proFlags(db), "--leader-poll", "1"];
    const leader = await startLeoflow({ dir: join(dir, "r1"), args: pro });
    const follower = await startLeoflow({ dir: join(dir, "r2"), args: pro });
    try {
      await waitFor(
        () => leader.output().includes("became scheduler leader"),
        20_000,
        () => leader.output(),
      );
      const login = await fetch(`${follower.url}/auth/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }),
      }).then((r) => r.json());
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 20_000);
      const res = await fetch(`${follower.url}/api/v2/leoflow/events?last_event_id=0&type=scheduler.`, {
        headers: { authorization: `Bearer ${login.access_token}` },
        signal: abort.signal,
      });
      expect(res.status).toBe(200);
      let text = "";
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      try {
        while (!/event: scheduler\.leader_changed\ndata: .*\n\n/.test(text)) {
          const { done, value } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
      } finally {
        clearTimeout(timer);
        abort.abort();
      }
      const message = text.match(/event: scheduler\.leader_changed\ndata: (.*)\n\n/);
      expect(message, text).not.toBeNull();
      const event = JSON.parse(message![1]!);
      expect(event.type).toBe("scheduler.leader_changed");
      expect(event.leader).toMatch(new RegExp(`^\\S+ pid ${leader.proc.pid} ${leader.url.replace(/[.]/g, "\\.")}$`));
      expect(typeof event.id).toBe("number");
    } finally {
      await follower.stop();
      await leader.stop();
    }
  }, 90_000);
});
