/**
 * Serves `leoflow/sdk` to DAG files as a virtual module. DAG folders live outside the compiled binary and
 * have no node_modules, so `import { dag } from "leoflow/sdk"` must be answered by the binary itself; Bun's
 * runtime plugin does that (verified with `bun build --compile` and a DAG file in an unrelated folder).
 */
import { plugin } from "bun";
import * as sdk from "../sdk";

let registered = false;

/** Registers the `leoflow/sdk` virtual module for later `import()`s. Idempotent. */
export function registerSdkPlugin(): void {
  if (registered) return;
  registered = true;
  plugin({
    name: "leoflow-sdk",
    setup(build) {
      // A plain object copy: the "object" loader wants an object of exports, not a module namespace.
      build.module("leoflow/sdk", () => ({ exports: { ...sdk }, loader: "object" }));
    },
  });
}
