/**
 * Compiles dist/leoflow: one executable with the runtime, the code, the migrations and the UI inside.
 * Regenerates the protobuf code first when the .proto is newer than it (the generated code is committed).
 */
import { $ } from "bun";
import { statSync, existsSync } from "node:fs";

const root = new URL("..", import.meta.url).pathname;
process.chdir(root);

const proto = "proto/leoflow/agent/v1/agent.proto";
const generated = "src/gen/leoflow/agent/v1/agent_pb.ts";
if (!existsSync(generated) || statSync(proto).mtimeMs > statSync(generated).mtimeMs) {
  console.error("==> buf generate");
  await $`./node_modules/.bin/buf generate`;
}

// --outfile PATH builds elsewhere (parallel work trees and tests use LEOFLOW_TEST_BINARY to run it).
const outIdx = process.argv.indexOf("--outfile");
const outfile = outIdx > 0 ? process.argv[outIdx + 1]! : "dist/leoflow";
const started = performance.now();
const result = await Bun.build({
  entrypoints: ["src/main.ts"],
  compile: { outfile },
  minify: true,
  sourcemap: "linked",
  bytecode: true,
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
const size = statSync(outfile).size;
console.error(`==> built ${outfile} (${(size / 1024 / 1024).toFixed(1)} MiB) in ${((performance.now() - started) / 1000).toFixed(1)}s`);
