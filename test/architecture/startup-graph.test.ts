/**
 * What `leoflow serve` evaluates before it answers /health: the modules main.ts and app.ts reach through
 * static imports (type-only imports and `import()` excluded). Code a Lite server with no DAGs does not need
 * there stays behind an `import()` (scripts/bench footprint: start-to-healthy, idle RSS); this fails when a
 * static import brings it back.
 */
import { describe, expect, test } from "bun:test";
import { dirname, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../../src");
const transpiler = new Bun.Transpiler({ loader: "ts" });

/** Files under src/ (relative) and packages reached from `entry` by static imports. */
async function staticGraph(entry: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = (await Bun.file(`${SRC}/${file}`).text()).replace(/^#!.*/, ""); // main.ts's shebang
    for (const imp of transpiler.scanImports(code)) {
      if (imp.kind !== "import-statement") continue;
      if (!imp.path.startsWith(".")) {
        seen.add(`package:${imp.path}`);
        continue;
      }
      const target = relative(SRC, resolve(dirname(`${SRC}/${file}`), imp.path));
      if (target.startsWith("..")) continue; // package.json, SQL migrations
      const candidates = [target, `${target}.ts`, `${target}/index.ts`];
      for (const c of candidates)
        if (c.endsWith(".ts") && (await Bun.file(`${SRC}/${c}`).exists())) {
          await visit(c);
          break;
        }
    }
  };
  await visit(entry);
  return seen;
}

describe("the server's start-up graph", () => {
  test("app.ts reaches neither the DAG loader nor the parse worker (YAML, the SDK, bun:ffi)", async () => {
    const graph = await staticGraph("app.ts");
    const offPath = ["dags/loader.ts", "dags/parse-worker.ts", "dags/cpu-limit.ts", "dags/ts-plugin.ts", "package:yaml", "package:bun:ffi"];
    expect(offPath.filter((m) => graph.has(m))).toEqual([]);
  });

  test("neither app.ts nor the serve configuration reaches zod (the domain's schemas are domain/schemas)", async () => {
    const graphs = await Promise.all(["app.ts", "config.ts", "config-file.ts"].map(staticGraph));
    const reached = graphs.flatMap((graph) => [...graph].filter((m) => m === "package:zod" || m === "domain/schemas.ts"));
    expect(reached).toEqual([]);
  });

  test("nor do the DAG folder sync and the callback runner, imported right after /health starts answering", async () => {
    // A module evaluated then still holds up the first /health answer: zod loads with the first DAG report read back.
    const graphs = await Promise.all(["dags/index.ts", "callbacks/index.ts"].map(staticGraph));
    expect(graphs.flatMap((graph) => [...graph].filter((m) => m === "package:zod" || m === "domain/schemas.ts"))).toEqual([]);
  });

  test("nothing a server evaluates at start reaches node:util or node:crypto", async () => {
    // Each costs a compiled binary ~3-5 ms of start-up and megabytes of RSS (node:crypto brings node's streams):
    // flags are read by src/args.ts, hashes and random bytes come from Bun.CryptoHasher and crypto.getRandomValues,
    // and the secrets cipher require()s node:crypto when it first seals or opens a value.
    const entries = ["main.ts", "app.ts", "config.ts", "config-file.ts", "dags/index.ts", "callbacks/index.ts"];
    const graphs = await Promise.all(entries.map(staticGraph));
    const heavy = ["node:util", "util", "node:crypto", "crypto"].map((m) => `package:${m}`);
    expect([...new Set(graphs.flatMap((graph) => [...graph].filter((m) => heavy.includes(m))))]).toEqual([]);
  });

  test("app.ts reaches the agent only through agent/launch (not its runner, warm loop and RPC client)", async () => {
    const graph = await staticGraph("app.ts");
    expect(
      [...graph].filter(
        (m) =>
          m.startsWith("agent/") &&
          ![
            "agent/launch.ts",
            "agent/self-command.ts",
            "agent/assignment.ts",
            "agent/control-line.ts",
            "agent/line-splitter.ts",
            "agent/python-venv.ts",
          ].includes(m),
      ),
    ).toEqual([]);
  });

  test("app.ts loads the DAG folder sync and the callback runner only after /health answers", async () => {
    const graph = await staticGraph("app.ts");
    expect([...graph].filter((m) => m.startsWith("dags/") || m.startsWith("callbacks/"))).toEqual([]);
  });

  test("serve binds with its configuration, the store and the health report: the server's wiring loads after", async () => {
    // app.ts imports the events, executors, dispatcher, scheduler and auth (jose) once /health answers (loadWiring),
    // and the configuration reads the executors' flag rules without their barrel: a restart answered its first
    // health check ~3 ms sooner (scripts/bench footprint: start-to-healthy).
    const graphs = await Promise.all(["main.ts", "app.ts", "config.ts", "config-file.ts"].map(staticGraph));
    const wiring = [
      "events/",
      "executors/index.ts",
      "executors/inline-runner.ts",
      "executors/subprocess.ts",
      "dispatch/",
      "scheduler/",
      "auth/index.ts",
      "package:jose",
    ];
    const reached = new Set(graphs.flatMap((graph) => [...graph].filter((m) => wiring.some((w) => m.startsWith(w)))));
    expect([...reached]).toEqual([]);
  });

  test("app.ts reaches the Postgres store only through openStore's require() for a Postgres URL", async () => {
    const graph = await staticGraph("app.ts");
    expect([...graph].filter((m) => m === "store/postgres/index.ts" || m === "store/postgres/postgres-store.ts")).toEqual([]);
  });

  test("app.ts loads the docker and kubernetes clients, executors and reconcilers only when --executor names one", async () => {
    const graph = await staticGraph("app.ts");
    const ioModules = ["index.ts", "client.ts", "executor.ts", "reconciler.ts", "setup.ts"];
    const offPath = [
      ...["docker", "kubernetes"].flatMap((kind) => ioModules.map((file) => `executors/${kind}/${file}`)),
      "executors/kubernetes/staging.ts",
    ];
    expect(offPath.filter((m) => graph.has(m))).toEqual([]);
  });
});
