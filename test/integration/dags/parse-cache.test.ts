import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ParseCache, helpersDigest, parseCacheKey } from "../../../src/dags";

const tmp = mkdtempSync(join(tmpdir(), "leoflow-parse-cache-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("parseCacheKey", () => {
  const base = {
    version: "1.0.0",
    team: "default",
    file: "/dags/etl.ts",
    content: "dag()",
    helpers: "h1",
    limits: { timeoutMs: 30_000, memoryBytes: 2 ** 29 },
  };
  const key = parseCacheKey(base);

  test("the same inputs give the same key", () => expect(parseCacheKey({ ...base })).toBe(key));

  test.each([
    ["the binary's version", { version: "1.0.1" }],
    ["the team whose folder holds the file", { team: "data-eng" }],
    ["the file's path (relative imports resolve from it)", { file: "/dags/other.ts" }],
    ["one byte of content", { content: "dag() " }],
    ["a helper module", { helpers: "h2" }],
    ["the time limit (a slow file may pass under a larger one)", { limits: { timeoutMs: 60_000, memoryBytes: 2 ** 29 } }],
    ["the memory limit", { limits: { timeoutMs: 30_000, memoryBytes: 2 ** 30 } }],
  ])("changes with %s", (_, change) => expect(parseCacheKey({ ...base, ...change })).not.toBe(key));

  test("bytes and the same text hash alike", () =>
    expect(parseCacheKey({ ...base, content: new TextEncoder().encode("dag()") })).toBe(key));
});

test("helpersDigest: order-independent, sensitive to paths and bytes, empty for no helpers", () => {
  const a = { path: "/d/_a.ts", content: "x" };
  const b = { path: "/d/_b.ts", content: "y" };
  expect(helpersDigest([a, b])).toBe(helpersDigest([b, a]));
  expect(helpersDigest([a, b])).not.toBe(helpersDigest([a, { ...b, content: "z" }]));
  expect(helpersDigest([a, b])).not.toBe(helpersDigest([a, { ...b, path: "/d/_c.ts" }]));
  // No ambiguity between ("ab","c") and ("a","bc").
  expect(
    helpersDigest([
      { path: "/p", content: "ab" },
      { path: "/q", content: "c" },
    ]),
  ).not.toBe(
    helpersDigest([
      { path: "/p", content: "a" },
      { path: "/q", content: "bc" },
    ]),
  );
  expect(helpersDigest([])).toBe("");
});

describe("ParseCache", () => {
  const DAY = 86_400_000;
  const entry = { dags: [{ dag_id: "etl" }], errors: [] };

  test("persists across opens (a restart parses nothing unchanged)", async () => {
    const file = join(tmp, "a", "cache.json");
    const first = await ParseCache.open(file);
    first.set("k1", entry, 0);
    await first.save(0);
    const again = await ParseCache.open(file);
    expect(again.get("k1", 1)).toMatchObject(entry);
    expect(again.get("k2", 1)).toBeUndefined();
  });

  test("entries unused for two weeks are dropped at save (superseded versions of edited files)", async () => {
    const file = join(tmp, "b.json");
    const cache = await ParseCache.open(file);
    cache.set("old", entry, 0);
    cache.set("fresh", entry, 20 * DAY);
    await cache.save(20 * DAY);
    const again = await ParseCache.open(file);
    expect(again.get("old", 20 * DAY)).toBeUndefined();
    expect(again.get("fresh", 20 * DAY)).toBeDefined();
  });

  test("a damaged cache file is ignored, not fatal", async () => {
    const file = join(tmp, "damaged.json");
    writeFileSync(file, "{ not json");
    const cache = await ParseCache.open(file);
    expect(cache.size).toBe(0);
  });
});
