/**
 * The import rules of ARCHITECTURE.md, checked over the source: which folder of src/ may import which, and
 * that a folder is entered through its index.ts. A new arrow fails here until it is argued for in
 * ARCHITECTURE.md and added below, so the layering cannot erode one convenient import at a time.
 */
import { describe, expect, test } from "bun:test";
import { Glob } from "bun";
import { dirname, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../../src");

/** Folder (or top-level module) → what it may import besides itself. Mirrors ARCHITECTURE.md. */
const ALLOWED: Record<string, readonly string[]> = {
  // gen: generated pure code only (the params' meta-schema validator, scripts/gen-json-schema-meta.ts).
  domain: ["gen"],
  sdk: ["domain"],
  gen: [],
  version: [],
  observability: ["domain"],
  store: ["domain"],
  auth: ["domain", "store"],
  events: ["domain", "observability", "store"],
  agent: ["domain", "observability", "args"],
  dags: ["domain", "observability", "sdk", "store", "agent"],
  executors: ["domain", "observability", "agent"],
  dispatch: ["domain", "observability", "store", "auth", "events", "executors"],
  scheduler: ["domain", "observability", "store", "dispatch"],
  callbacks: ["domain", "observability", "store", "events", "executors"],
  rpc: ["domain", "observability", "store", "auth", "agent", "gen"],
  api: ["domain", "observability", "store", "auth", "events", "scheduler", "ui"],
  ui: [],
  config: ["domain", "executors", "config-file", "config-rules", "args"],
  "config-rules": [],
  args: [],
  "config-file": ["domain"],
  cli: ["domain", "store", "auth", "config", "config-file"],
  app: [
    "domain",
    "agent",
    "api",
    "auth",
    "callbacks",
    "config",
    "config-file",
    "dags",
    "dispatch",
    "events",
    "executors",
    "observability",
    "rpc",
    "scheduler",
    "store",
    "version",
  ],
  main: ["agent", "app", "args", "cli", "config", "config-file", "dags", "domain", "observability", "store", "version"],
};

/**
 * Imports that skip a folder's index.ts on purpose: modules the `agent` and the CLI load at start-up
 * without pulling in the whole folder (every task pays for `leoflow agent`'s start), generated code, the
 * health report the server answers before the API has loaded (`api/health`), the CLI client
 * (`cli/client`), which main.ts loads without cli/index.ts's store and auth, and the domain's second entry
 * (`domain/schemas`: the zod schemas and the DAG parser, kept off the server's start-up path), and the
 * agent's (`agent/launch`: what a server needs to launch agents, without the agent's runner and RPC client),
 * and the container executors' flag rules (`executors/docker/settings`, `executors/kubernetes/settings`), which
 * `serve`'s configuration reads before the server binds, without the executors themselves, and the secrets key
 * and signing secret the server loads before it binds (`auth/secrets-key`, `auth/signing-secret`, and a Pro replica's
 * check of it against its deployment's, `auth/signing-fingerprint`), without jose,
 * and the admin's name, which a first start looks up before it binds (`auth/admin`).
 */
const DEEP_ALLOWED = [
  /^executors\/(docker|kubernetes)\/settings$/,
  /^auth\/(secrets-key|signing-secret|signing-fingerprint|admin)$/,
  /^domain\/(errors|task-env|env-from|schemas|compiled-binary)$/,
  /^agent\/launch$/,
  /^observability\/logger$/,
  /^rpc\/prefix$/,
  /^api\/health$/,
  /^gen\//,
  /^cli\/client$/,
];

interface Edge {
  file: string;
  from: string;
  to: string;
  target: string;
}

async function importEdges(): Promise<Edge[]> {
  const edges: Edge[] = [];
  for await (const file of new Glob("**/*.ts").scan(SRC)) {
    const from = file.split("/")[0]!.replace(/\.ts$/, "");
    const text = await Bun.file(`${SRC}/${file}`).text();
    const specs = text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g);
    for (const m of specs) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith(".")) continue;
      const target = relative(SRC, resolve(dirname(`${SRC}/${file}`), spec)).replace(/\.ts$/, "");
      if (target.startsWith("..")) continue; // package.json, sql/ migrations: files, not modules
      const to = target.split("/")[0]!;
      if (to !== from) edges.push({ file, from, to, target });
    }
  }
  return edges;
}

describe("import rules (ARCHITECTURE.md)", () => {
  test("every folder imports only the folders it is allowed to", async () => {
    const edges = await importEdges();
    expect(edges.length).toBeGreaterThan(50); // the scan found the source
    const forbidden = edges
      .filter((e) => !(ALLOWED[e.from] ?? []).includes(e.to))
      .map((e) => `src/${e.file} imports ${e.target}: ${e.from} → ${e.to} is not an allowed arrow`);
    expect(forbidden).toEqual([]);
  });

  test("every src folder has a rule", async () => {
    const folders = new Set((await importEdges()).flatMap((e) => [e.from, e.to]));
    expect([...folders].filter((f) => !(f in ALLOWED))).toEqual([]);
  });

  test("other folders are entered through index.ts", async () => {
    const deep = (await importEdges())
      .filter((e) => e.target.includes("/") && !e.target.endsWith("/index"))
      .filter((e) => !DEEP_ALLOWED.some((re) => re.test(e.target)))
      .map((e) => `src/${e.file} imports ${e.target}; import from "${e.to}" (its index.ts) instead`);
    expect(deep).toEqual([]);
  });

  test("no cycle between folders", async () => {
    const graph = new Map<string, Set<string>>();
    for (const e of await importEdges()) {
      if (!graph.has(e.from)) graph.set(e.from, new Set());
      graph.get(e.from)!.add(e.to);
    }
    const cycles: string[] = [];
    const visit = (node: string, path: string[]) => {
      if (path.includes(node)) return void cycles.push([...path.slice(path.indexOf(node)), node].join(" → "));
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    };
    for (const node of graph.keys()) visit(node, []);
    expect(cycles).toEqual([]);
  });
});
