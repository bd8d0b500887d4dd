/**
 * Large JSON answers are gzipped for a client that accepts gzip (src/api/compress.ts), on SQLite: the body a client
 * gunzips is the JSON it would have read; small answers, clients that do not accept gzip and clients on this host
 * (loopback) get plain JSON; the answer says it varies by Accept-Encoding.
 */
import { describe, expect, test } from "bun:test";
import { COMPRESS_MIN_BYTES } from "../../../src/api/compress";
import { isLoopbackPeer } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { makeHarness, NOW } from "./harness";

describe("gzip of large JSON answers", () => {
  test("a large task list is gzipped for a client that accepts it, the same JSON once gunzipped; a small answer is not", async () => {
    const h = await makeHarness();
    const spec = parseDagSpec({
      dag_id: "wide",
      tasks: Array.from({ length: 300 }, (_, i) => ({ task_id: `task_${i}`, operator: "empty" })),
    });
    await h.store.upsertDag("default", { spec, fileloc: "/dags/wide.json", pausedOnCreate: false, now: NOW });
    const plain = await h.call("GET", "/api/v2/dags/wide/tasks");
    expect(plain.headers.get("content-encoding")).toBeNull();
    const text = await plain.text();
    expect(text.length).toBeGreaterThan(COMPRESS_MIN_BYTES);

    const gz = await h.call("GET", "/api/v2/dags/wide/tasks", { headers: { "Accept-Encoding": "gzip, deflate, br" }, check: false });
    expect(gz.status).toBe(200);
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    expect(gz.headers.get("vary")).toContain("accept-encoding");
    expect(gz.headers.get("content-type")).toStartWith("application/json");
    const bytes = new Uint8Array(await gz.arrayBuffer());
    expect(bytes.length).toBeLessThan(text.length / 5);
    expect(new TextDecoder().decode(Bun.gunzipSync(bytes))).toBe(text);

    // A client on this host gets it plain: compressing only costs there.
    const peer = (address: string) => ({ requestIP: () => ({ address }) });
    const local = await h.call("GET", "/api/v2/dags/wide/tasks", { headers: { "Accept-Encoding": "gzip" }, env: peer("127.0.0.1") });
    expect(local.headers.get("content-encoding")).toBeNull();
    expect(await local.text()).toBe(text);
    const remote = await h.call("GET", "/api/v2/dags/wide/tasks", {
      headers: { "Accept-Encoding": "gzip" },
      env: peer("10.1.2.3"),
      check: false,
    });
    expect(remote.headers.get("content-encoding")).toBe("gzip");

    const small = await h.call("GET", "/api/v2/dags/wide", { headers: { "Accept-Encoding": "gzip" } });
    expect(small.headers.get("content-encoding")).toBeNull();
    expect(small.headers.get("vary")).toContain("accept-encoding");
    expect((await small.json()).dag_id).toBe("wide");
  });

  test("loopback addresses, IPv4 and IPv6 and IPv4-mapped, and nothing else", () => {
    for (const a of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) expect(isLoopbackPeer(a)).toBe(true);
    for (const a of ["10.0.0.1", "128.0.0.1", "::2", "unknown", "::ffff:10.0.0.1"]) expect(isLoopbackPeer(a)).toBe(false);
  });
});
