/**
 * Holds Leoflow's API against Airflow 3's own OpenAPI document, which the project does not commit:
 *
 *   bun scripts/api-spec-check.ts --spec /tmp/v2-rest-api-generated.yaml [--record responses.jsonl]
 *
 * Prints the operations in the spec, the ones Leoflow serves (same method and path), and the share of
 * the API route tests' responses that are valid against the spec's schema for their status. Without
 * --record it runs test/integration/api with scripts/api-spec-record.ts preloaded, which appends each response
 * the test harness checks to a JSON-lines file. Leoflow-only routes (/api/v2/leoflow/…, /auth/token, /metrics) are left out.
 */
import { $ } from "bun";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { openApiPath, routeDocs } from "../src/api/openapi-registry";
import "../src/api/schemas";
import type { RecordedResponse } from "../test/integration/api/response-check";

const METHODS = ["get", "post", "put", "patch", "delete"];
type Json = Record<string, any>;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const specFile = arg("--spec");
if (!specFile || !existsSync(specFile)) {
  console.error(
    "usage: bun scripts/api-spec-check.ts --spec FILE [--record FILE]\n  FILE: Airflow 3's v2-rest-api-generated.yaml (or .json)",
  );
  process.exit(2);
}
const text = readFileSync(specFile, "utf8");
const spec: Json = specFile.endsWith(".json") ? JSON.parse(text) : Bun.YAML.parse(text);

// Every `#/components/…` reference is made absolute so a response schema compiles on its own, and
// OpenAPI 3.0's `nullable` (the client's copy of the spec uses it) becomes JSON Schema's null type.
const SPEC_ID = "airflow-spec";
function absolute(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(absolute);
  if (!v || typeof v !== "object") return v;
  const o: Json = Object.fromEntries(
    Object.entries(v).map(([k, x]) => [k, k === "$ref" && typeof x === "string" && x.startsWith("#") ? `${SPEC_ID}${x}` : absolute(x)]),
  );
  if (o.nullable !== true) return o;
  const { nullable: _, ...rest } = o;
  if (typeof rest.type === "string" && !rest.enum) return { ...rest, type: [rest.type, "null"] };
  return { anyOf: [rest, { type: "null" }] };
}
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: SPEC_ID, components: absolute(spec.components) as Json });

// --- operations -------------------------------------------------------------------------------------------
const specOps = new Map<string, Json>();
for (const [path, item] of Object.entries(spec.paths as Json))
  for (const m of METHODS) if (item[m]) specOps.set(`${m.toUpperCase()} ${path}`, item[m]);
const ours = new Set(routeDocs().map((d) => `${d.method} ${openApiPath(d.path)}`));
const implemented = [...specOps.keys()].filter((k) => ours.has(k));
const leoflowOnly = [...ours].filter((k) => !specOps.has(k));

// --- responses ----------------------------------------------------------------------------------------------
let recordFile = arg("--record");
if (!recordFile) {
  recordFile = join(mkdtempSync(join(tmpdir(), "leoflow-spec-")), "responses.jsonl");
  console.error(`==> bun test test/integration/api/ (recording responses to ${recordFile})`);
  await $`bun test --preload ./scripts/api-spec-record.ts test/integration/api/`
    .env({ ...process.env, LEOFLOW_API_RECORD: recordFile })
    .nothrow()
    .quiet();
}
const recs: RecordedResponse[] = readFileSync(recordFile, "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l));

const validators = new Map<string, ValidateFunction>();
let checked = 0;
let valid = 0;
let notInSpec = 0;
let notJson = 0;
const statusNotListed = new Map<string, number>();
/** operation+status pairs seen, and those with at least one invalid response. */
const pairs = new Set<string>();
const bad = new Set<string>();
const failures = new Map<string, number>();
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

for (const r of recs) {
  const key = r.route ? `${r.method} ${openApiPath(r.route)}` : null;
  const op = key ? specOps.get(key) : undefined;
  if (!key || !op) {
    notInSpec++;
    continue;
  }
  checked++;
  pairs.add(`${key} ${r.status}`);
  const resp = op.responses?.[String(r.status)] ?? op.responses?.default;
  if (!resp) {
    bump(statusNotListed, `${key} → ${r.status}`);
    bad.add(`${key} ${r.status}`);
    continue;
  }
  const media = resp.content?.["application/json"];
  if (!r.contentType.startsWith("application/json")) {
    notJson++;
    if (resp.content?.[r.contentType.split(";")[0]!] || !resp.content) valid++;
    else {
      bad.add(`${key} ${r.status}`);
      bump(failures, `${key} ${r.status}: content type ${r.contentType} not in the spec`);
    }
    continue;
  }
  if (!media?.schema) {
    valid++;
    continue;
  }
  const vkey = `${key} ${r.status}`;
  let validate = validators.get(vkey);
  if (!validate) validators.set(vkey, (validate = ajv.compile(absolute(media.schema) as Json)));
  if (validate(r.body)) valid++;
  else {
    bad.add(vkey);
    for (const e of validate.errors!.slice(0, 3)) bump(failures, `${vkey}: ${e.instancePath || "(body)"} ${e.message}`);
  }
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : "n/a");
console.log(`Airflow spec: ${specFile} (info.version ${spec.info?.version}, ${text.length} chars)`);
console.log(`operations in the spec:            ${specOps.size}`);
console.log(`operations Leoflow implements:     ${implemented.length} (${pct(implemented.length, specOps.size)})`);
console.log(`Leoflow routes not in the spec:    ${leoflowOnly.length} (${leoflowOnly.join(", ")})`);
console.log(`recorded responses:                ${recs.length} (${notInSpec} on Leoflow-only or unknown routes, ${notJson} not JSON)`);
console.log(`responses on spec operations:      ${checked}`);
console.log(`schema-valid (status listed too):  ${valid} (${pct(valid, checked)})`);
console.log(`operation+status pairs all valid:   ${pairs.size - bad.size} of ${pairs.size} (${pct(pairs.size - bad.size, pairs.size)})`);
const listed = [...statusNotListed].sort((a, b) => b[1] - a[1]);
console.log(`status not listed by the spec:     ${listed.reduce((n, [, c]) => n + c, 0)}`);
for (const [k, c] of listed) console.log(`  ${c}× ${k}`);
console.log("schema failures (first 3 errors per response, grouped):");
for (const [k, c] of [...failures].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`  ${c}× ${k}`);
if (process.argv.includes("--missing"))
  for (const k of [...specOps.keys()].filter((k) => !ours.has(k))) console.log(`  not implemented: ${k}`);
