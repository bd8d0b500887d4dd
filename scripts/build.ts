/**
 * Compiles dist/leoflow: one executable with the runtime, the code, the migrations and the UI inside.
 * Regenerates the protobuf code first when the .proto is newer than it (the generated code is committed).
 */
import { $ } from "bun";
import { statSync, existsSync } from "node:fs";
import { buildUi } from "./build-ui";
import { BYTECODE_ORDER_FILE } from "./bytecode-order";
import { generateMetaValidator, META_VALIDATOR_FILE, metaValidatorStale } from "./gen-json-schema-meta";

const root = new URL("..", import.meta.url).pathname;
process.chdir(root);

const proto = "proto/leoflow/agent/v1/agent.proto";
const generated = "src/gen/leoflow/agent/v1/agent_pb.ts";
if (!existsSync(generated) || statSync(proto).mtimeMs > statSync(generated).mtimeMs) {
  console.error("==> buf generate");
  await $`./node_modules/.bin/buf generate`;
}
if (metaValidatorStale(root)) {
  console.error(`==> ${META_VALIDATOR_FILE}`);
  generateMetaValidator(root);
}

// The web UI first: the binary embeds the bundle it writes (src/ui/generated/, not committed).
const ui = await buildUi(root);
console.error(
  `==> web UI bundle: js ${(ui.jsBytes / 1024).toFixed(1)} KiB, css ${(ui.cssBytes / 1024).toFixed(1)} KiB, ${(ui.gzipBytes / 1024).toFixed(1)} KiB gzipped`,
);

// --outfile PATH builds elsewhere (parallel work trees and tests use LEOFLOW_TEST_BINARY to run it).
const outIdx = process.argv.indexOf("--outfile");
const outfile = outIdx > 0 ? process.argv[outIdx + 1]! : "dist/leoflow";
// --target bun-linux-arm64 (…) cross-compiles and --version V names a release (scripts/release passes both).
const argAfter = (flag: string) => (process.argv.indexOf(flag) > 0 ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
const target = argAfter("--target") as Bun.Build.CompileTarget | undefined;
const define = await buildInfoDefines(argAfter("--version"));
const started = performance.now();
const result = await Bun.build({
  // The WAL checkpointer's worker thread is its own entrypoint: a Worker in a compiled binary loads only files
  // the build lists (src/store/sqlite/wal-checkpointer.ts).
  entrypoints: ["src/main.ts", "src/store/sqlite/wal-checkpoint-worker.ts"],
  compile: {
    outfile,
    ...(target ? { target } : {}),
    // Profile-guided layout: the functions a start runs sit together at the front of the embedded bytecode, so
    // a start reads and keeps fewer of its pages (scripts/bytecode-order.ts records the profile).
    bytecodeOrder: existsSync(BYTECODE_ORDER_FILE) && BYTECODE_ORDER_FILE,
    // A standalone Bun executable reads .env and bunfig.toml from its working directory by default: a .env
    // there would change the server's settings unseen (LEOFLOW_AUTH=none), and a bunfig.toml's `preload`
    // would run that folder's code inside any leoflow command. Settings come from flags, LEOFLOW_* variables
    // of the real environment and the config file only.
    autoloadDotenv: false,
    autoloadBunfig: false,
  },
  define,
  minify: true,
  // No source maps: embedded in the binary they cost 3.5 MiB (issue 18's size budget is hello + 15 MB) and
  // only turned a crash's stack trace from minified names into source positions; error messages are ours.
  sourcemap: "none",
  bytecode: true,
  // ESM chunks: what a command imports lazily (the Kubernetes client, the RPC service, the client CLI) is
  // its own module in the binary, loaded when first imported, instead of part of one file every start
  // reads (~5 MiB less RSS and a faster start; scripts/bench footprint).
  format: "esm",
  splitting: true,
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
const size = statSync(outfile).size;
console.error(`==> built ${outfile} (${(size / 1024 / 1024).toFixed(1)} MiB) in ${((performance.now() - started) / 1000).toFixed(1)}s`);

/**
 * `leoflow version`'s version, commit and build date, baked in as constants (src/version.ts). The commit
 * ends in "-dirty" when the tree has uncommitted changes; SOURCE_DATE_EPOCH fixes the date (reproducible builds).
 */
async function buildInfoDefines(version: string | undefined): Promise<Record<string, string>> {
  const head = (await $`git rev-parse --short=12 HEAD`.quiet().nothrow()).stdout.toString().trim();
  const dirty = (await $`git status --porcelain --untracked-files=no`.quiet().nothrow()).stdout.toString().trim() !== "";
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  const date = Number.isFinite(epoch) && epoch > 0 ? new Date(epoch * 1000) : new Date();
  const pkg = await Bun.file("package.json").json();
  return {
    LEOFLOW_BUILD_VERSION: JSON.stringify(version ?? pkg.version),
    LEOFLOW_BUILD_COMMIT: JSON.stringify(head ? `${head}${dirty ? "-dirty" : ""}` : "unknown"),
    LEOFLOW_BUILD_DATE: JSON.stringify(date.toISOString().replace(/\.\d{3}Z$/, "Z")),
  };
}
