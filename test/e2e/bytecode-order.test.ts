/**
 * The binary's bytecode is laid out by packaging/bytecode-order.txt (scripts/build.ts): the functions a start
 * runs sit together, so a start keeps fewer pages of the embedded code (scripts/bench footprint). The layout
 * only helps while the profile still names what a start runs; this records a start of the binary under test
 * the way scripts/bytecode-order.ts does and fails when the committed profile has gone stale.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BYTECODE_ORDER_FILE, recordBytecodeOrder } from "../../scripts/bytecode-order";
import { BINARY } from "./harness";

const ROOT = join(import.meta.dir, "../..");
/** Below this share of a start's entries found in the profile, it is stale (a fresh one holds 94–100%). */
const MIN_SHARE = 0.8;

/** A profile's entries (one per line after the format line). */
const entries = (text: string) => new Set(text.split("\n").slice(1).filter(Boolean));

describe("the bytecode layout profile", () => {
  test("names most of what a start of this build runs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-order-test-"));
    try {
      const recorded = join(dir, "order.txt");
      await recordBytecodeOrder(BINARY, recorded, join(ROOT, "examples/dags"));
      const text = readFileSync(recorded, "utf8");
      expect(text.split("\n")[0]).toBe("v2");
      const started = entries(text);
      // A start of the server runs thousands of functions; an empty recording would pass any share.
      expect(started.size).toBeGreaterThan(5_000);
      const profile = entries(readFileSync(join(ROOT, BYTECODE_ORDER_FILE), "utf8"));
      const share = [...started].filter((e) => profile.has(e)).length / started.size;
      if (share < MIN_SHARE)
        throw new Error(
          `${BYTECODE_ORDER_FILE} names ${(share * 100).toFixed(0)}% of what a start runs (at least ${MIN_SHARE * 100}% expected): ` +
            "record it again with `bun scripts/bytecode-order.ts` and commit it",
        );
      expect(share).toBeGreaterThanOrEqual(MIN_SHARE);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
