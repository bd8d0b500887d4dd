/**
 * Generated bad input for every documented API route (src/api/openapi-registry.ts): wrong types, missing
 * and unknown fields, huge numbers, NUL, deep nesting, unknown ids, bad tokens and content types, from a
 * seeded PRNG so a failure replays. No request may answer 500, and a refused one (4xx) must leave the stored
 * data as it was (a snapshot of every resource, read through the API, before and after).
 */
import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { routeDocs, type RouteDoc } from "../../src/api/openapi-registry";
import "../../src/api/schemas";
import { makeHarness, type Harness } from "./api/harness";
import { seededRandom, type SeededRandom } from "../support/seeded-random";

const SEED = Number(process.env.LEOFLOW_FUZZ_SEED ?? 20260301);
const PER_ROUTE = Number(process.env.LEOFLOW_FUZZ_PER_ROUTE ?? 60);

const prng = seededRandom;
type Rng = SeededRandom;

const deep = (n: number): unknown => (n === 0 ? 1 : { a: deep(n - 1) });
const deepArray = (n: number): unknown => (n === 0 ? [] : [deepArray(n - 1)]);
const NASTY: unknown[] = [
  null,
  "",
  "x\u0000y",
  "\ud800",
  "a".repeat(5000),
  -1,
  0,
  1.5,
  2 ** 53 + 1,
  1e308,
  -1e308,
  true,
  [],
  {},
  [1, "a", null],
  { __proto__: { polluted: true }, constructor: { prototype: 1 } },
  deep(70),
  deepArray(70),
  "2026-13-45T99:99:99Z",
  "yesterday",
  "../../etc/passwd",
  "' OR 1=1 --",
  "%",
  "~",
];
const NASTY_TEXT = [
  "",
  "\u0000",
  "%00",
  "-1",
  "99999999999999999999999",
  "1e309",
  "NaN",
  "abc",
  "~",
  "a".repeat(2000),
  "true",
  "null",
  "[]",
  "%25",
  "\ud83d\ude00",
  "..",
  "2026-02-30",
];

type Json = Record<string, any>;
const schemaOf = (s: z.ZodType): Json => z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as Json;

/** A value that fits the JSON schema (roughly), so some requests get past validation to the store. */
function valid(s: Json | undefined, r: Rng, known: Known): unknown {
  if (!s) return r.pick(NASTY);
  if (s.enum) return r.pick(s.enum);
  if (s.const !== undefined) return s.const;
  const alt = s.anyOf ?? s.oneOf;
  if (alt) return valid(r.pick(alt), r, known);
  const type = Array.isArray(s.type) ? r.pick(s.type) : s.type;
  switch (type) {
    case "string":
      if (s.format === "date-time") return r.pick(["2026-01-02T00:00:00Z", "2026-02-27T00:00:00+00:00"]);
      return r.pick(known.words);
    case "integer":
      return r.pick([0, 1, 2, 5, 50, s.minimum ?? 0]);
    case "number":
      return r.pick([0, 1, 2.5]);
    case "boolean":
      return r.chance(0.5);
    case "null":
      return null;
    case "array":
      return Array.from({ length: r.int(3) }, () => valid(s.items, r, known));
    case "object": {
      const out: Json = {};
      for (const [k, p] of Object.entries((s.properties ?? {}) as Json))
        if ((s.required ?? []).includes(k) || r.chance(0.5)) out[k] = valid(p, r, known);
      return out;
    }
    default:
      return r.pick(known.words);
  }
}

/** A body from the route's schema, mostly with one to three fields broken, dropped or added. */
function body(doc: RouteDoc, r: Rng, known: Known): unknown {
  if (r.chance(0.1)) return r.pick([...NASTY, "{", "[1,", "null", "not json"]);
  const s = doc.body ? schemaOf(doc.body) : { type: "object", properties: {} };
  const out = valid(s, r, known);
  if (!out || typeof out !== "object" || Array.isArray(out) || r.chance(0.25)) return out; // a quarter well-formed: they reach the store
  const keys = Object.keys((s.properties ?? {}) as Json);
  for (let i = 0, n = 1 + r.int(3); i < n; i++) {
    const k = keys.length && r.chance(0.8) ? r.pick(keys) : r.pick(["unknown_field", "__proto__", "constructor", "x\u0000"]);
    if (r.chance(0.25)) delete (out as Json)[k];
    else (out as Json)[k] = r.pick(NASTY);
  }
  return out;
}

function query(doc: RouteDoc, r: Rng, known: Known): string {
  const props = doc.query ? Object.entries((schemaOf(doc.query).properties ?? {}) as Json) : [];
  const parts: string[] = [];
  for (const [k, p] of props) {
    if (!r.chance(0.4)) continue;
    const v = r.chance(0.3) ? r.pick(NASTY_TEXT) : String(valid(p.type === "array" ? p.items : p, r, known));
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
    if (p.type === "array" && r.chance(0.3)) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(r.pick(NASTY_TEXT))}`);
  }
  if (r.chance(0.2)) parts.push(`unknown_param=${encodeURIComponent(r.pick(NASTY_TEXT))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

function path(doc: RouteDoc, r: Rng, known: Known): string {
  return doc.path.replace(/:(\w+)(\{[^}]*\})?/g, (_, name: string) => {
    const real = known.ids[name];
    const v = real && r.chance(0.6) ? r.pick(real) : r.pick([...NASTY_TEXT.filter((t) => t !== ""), "nope", "-1", "0"]);
    return encodeURIComponent(v);
  });
}

interface Known {
  /** Real values for each path parameter, so requests reach the store. */
  ids: Record<string, string[]>;
  words: string[];
}

async function snapshot(h: Harness): Promise<string> {
  const reads = [
    "/api/v2/dags?limit=100&exclude_stale=false",
    "/api/v2/dags/~/dagRuns?limit=100",
    "/api/v2/variables?limit=100",
    "/api/v2/connections?limit=100",
    "/api/v2/pools?limit=100",
    "/api/v2/backfills?dag_id=etl",
    "/api/v2/dags/~/dagRuns/~/taskInstances?limit=100",
  ];
  const out: string[] = [];
  for (const p of reads) {
    const res = await h.call("GET", p, { check: false });
    // A snapshot read that fails would compare equal forever and hide every change.
    if (res.status !== 200) throw new Error(`snapshot read ${p} answered ${res.status}: ${await res.text()}`);
    out.push(`${p} ${await res.text()}`);
  }
  return out.join("\n");
}

describe("API fuzz", () => {
  test(`no 500 and no change on refusal, ${PER_ROUTE} generated requests per route (seed ${SEED})`, async () => {
    const h = await makeHarness();
    const run = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: "2026-02-01T00:00:00Z" } });
    expect(run.status).toBe(200);
    await h.json("POST", "/api/v2/variables", { body: { key: "v1", value: "x" } });
    await h.json("POST", "/api/v2/connections", { body: { connection_id: "c1", conn_type: "http" } });
    await h.json("POST", "/api/v2/pools", { body: { name: "p1", slots: 2 } });
    const known: Known = {
      ids: {
        dag_id: ["etl", "report", "~"],
        dag_run_id: [run.body.dag_run_id],
        task_id: ["extract", "load", "~"],
        variable_key: ["v1"],
        connection_id: ["c1"],
        pool_name: ["p1", "default_pool"],
        try_number: ["0", "1"],
        map_index: ["-1", "0"],
        xcom_key: ["return_value"],
        backfill_id: ["1"],
        username: ["viewer", "admin"],
      },
      words: ["etl", "report", "extract", "v1", "c1", "p1", "queued", "success", "failed", "x", run.body.dag_run_id],
    };
    const viewer = await h.token("viewer");
    const admin = await h.token("admin");
    const tokens: (string | null)[] = [null, "garbage", `${admin.slice(0, -3)}abc`, viewer, "a".repeat(5000)];
    // Long-polling routes wait for a run to end; they are fuzzed by their own tests, not here.
    const docs = routeDocs().filter(
      (d) =>
        !d.path.endsWith("/wait") && !Object.values(d.responses).some((x) => x && "contentType" in x && typeof x.contentType === "string"),
    );
    const r = prng(SEED);
    const problems: string[] = [];
    let requests = 0;
    const statuses = new Map<string, Map<number, number>>();
    let before = await snapshot(h);
    for (const doc of docs) {
      const n = doc.path === "/auth/token" ? 10 : PER_ROUTE; // each login try hashes a password (argon2): slow on purpose
      for (let i = 0; i < n; i++) {
        const url = path(doc, r, known) + query(doc, r, known);
        const headers: Record<string, string> = {};
        if (r.chance(0.05))
          headers["Content-Type"] = r.pick(["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1"]);
        const token = r.chance(0.1) ? r.pick(tokens) : undefined;
        const sent = doc.body || r.chance(0.1) ? body(doc, r, known) : undefined;
        const res = await h.call(doc.method, url, { body: sent, token, headers, check: false });
        requests++;
        const seen = statuses.get(`${doc.method} ${doc.path}`) ?? new Map<number, number>();
        statuses.set(`${doc.method} ${doc.path}`, seen.set(res.status, (seen.get(res.status) ?? 0) + 1));
        const text = await res.text();
        const what = `${doc.method} ${url} body=${JSON.stringify(sent)?.slice(0, 200)} token=${token === undefined ? "admin" : String(token).slice(0, 12)}`;
        if (res.status >= 500) problems.push(`${res.status} on ${what}: ${text.slice(0, 200)}`);
        const after = await snapshot(h);
        if (res.status >= 400 && after !== before) problems.push(`refused with ${res.status} but stored data changed: ${what}`);
        before = after;
      }
    }
    if (process.env.LEOFLOW_FUZZ_VERBOSE)
      for (const [route, seen] of statuses) console.log(route, Object.fromEntries([...seen].sort((a, b) => a[0] - b[0])));
    expect(requests).toBeGreaterThan(2000);
    expect(problems).toEqual([]);
  }, 300_000);
});
