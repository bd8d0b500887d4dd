/**
 * Records packaging/bytecode-order.txt: the profile scripts/build.ts lays the binary's bytecode out by (Bun's
 * `bytecodeOrder`). Bun puts the functions a recorded run used together at the front of the embedded code, so a
 * start reads and keeps fewer of its pages: idle RSS 53.0 → 50.5 MiB and restart-to-healthy 0.8× (scripts/bench
 * footprint, alternating binaries; docs/performance.md).
 *
 * The run recorded is the common start: `serve` on an existing SQLite file (a restart) with the example DAGs,
 * until it has served and idled for 2 s. Run it again after changing what a start runs; a profile from an older
 * build still orders the functions that did not change, and test/e2e/bytecode-order.test.ts fails when too few
 * of a start's functions are in it.
 *
 *   bun scripts/bytecode-order.ts [--binary PATH]   (default: builds one into a temporary directory)
 */
import { $ } from "bun";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { liteServeArgs, servingUrl, spawnCapturing, waitFor } from "../test/support/leoflow-process";

export const BYTECODE_ORDER_FILE = "packaging/bytecode-order.txt";

/** Starts `binary serve` in `dir` until it logs that it is serving and has idled `idleMs`, then stops it (SIGTERM). */
export async function recordStart(binary: string, dir: string, dagsFolder: string, env: Record<string, string>, idleMs: number) {
  // Any free port: the start is watched through its log, not over HTTP.
  const { proc, output } = spawnCapturing([binary, ...liteServeArgs(dir, dagsFolder), "--port", "0"], {
    cwd: dir,
    env: { ...process.env, LEOFLOW_ADMIN_PASSWORD: "bytecode-order-profile", ...env },
  });
  await waitFor(
    () => {
      if (proc.exitCode !== null) throw new Error(`${binary} serve exited ${proc.exitCode}: ${output()}`);
      return servingUrl(output());
    },
    60_000,
    () => `${binary} serve did not log "leoflow is serving" within 60 s: ${output()}`,
    10,
  );
  await Bun.sleep(idleMs);
  proc.kill("SIGTERM");
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${binary} serve did not stop cleanly (exit ${code}): ${output()}`);
}

/** Records the profile of a restart of `binary` into `out`: a first start creates the database, the second is recorded. */
export async function recordBytecodeOrder(binary: string, out: string, dagsFolder: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-bytecode-order-"));
  try {
    await recordStart(binary, dir, dagsFolder, {}, 500);
    await recordStart(binary, dir, dagsFolder, { BUN_BYTECODE_ORDER_OUT: out }, 2000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname;
  process.chdir(root);
  const at = process.argv.indexOf("--binary");
  const work = mkdtempSync(join(tmpdir(), "leoflow-bytecode-build-"));
  try {
    const binary = at > 0 ? resolve(process.argv[at + 1]!) : join(work, "leoflow");
    if (at < 0) await $`${process.execPath} scripts/build.ts --outfile ${binary}`;
    const out = join(work, "order.txt");
    await recordBytecodeOrder(binary, out, join(root, "examples/dags"));
    writeFileSync(BYTECODE_ORDER_FILE, readFileSync(out));
    console.error(`==> wrote ${BYTECODE_ORDER_FILE}; rebuild (bun scripts/build.ts) to lay the binary out by it`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
