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
import { join } from "node:path";

export const BYTECODE_ORDER_FILE = "packaging/bytecode-order.txt";

/** Starts `binary serve` in `dir` until it logs that it is serving and has idled `idleMs`, then stops it (SIGTERM). */
export async function recordStart(binary: string, dir: string, dagsFolder: string, env: Record<string, string>, idleMs: number) {
  const proc = Bun.spawn(
    [
      binary,
      "serve",
      "--mode=lite",
      `--db=sqlite:${join(dir, "leoflow.db")}`,
      "--dags-folder",
      dagsFolder,
      "--data-dir",
      join(dir, "data"),
      "--port",
      "0", // any free port: the start is watched through its log, not over HTTP
    ],
    { env: { ...process.env, LEOFLOW_ADMIN_PASSWORD: "bytecode-order-profile", ...env }, stdout: "ignore", stderr: "pipe" },
  );
  let log = "";
  const reading = (async () => {
    const reader = proc.stderr.getReader();
    const text = new TextDecoder();
    for (let r = await reader.read(); !r.done; r = await reader.read()) log += text.decode(r.value, { stream: true });
  })();
  const deadline = Date.now() + 60_000;
  while (!log.includes("leoflow is serving")) {
    if (proc.exitCode !== null) throw new Error(`${binary} serve exited ${proc.exitCode}: ${log}`);
    if (Date.now() > deadline) throw new Error(`${binary} serve did not log "leoflow is serving" within 60 s: ${log}`);
    await Bun.sleep(10);
  }
  await Bun.sleep(idleMs);
  proc.kill("SIGTERM");
  const code = await proc.exited;
  await reading;
  if (code !== 0) throw new Error(`${binary} serve did not stop cleanly (exit ${code}): ${log}`);
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
    const binary = at > 0 ? process.argv[at + 1]! : join(work, "leoflow");
    if (at < 0) await $`${process.execPath} scripts/build.ts --outfile ${binary}`;
    const out = join(work, "order.txt");
    await recordBytecodeOrder(binary, out, join(root, "examples/dags"));
    writeFileSync(BYTECODE_ORDER_FILE, readFileSync(out));
    console.error(`==> wrote ${BYTECODE_ORDER_FILE}; rebuild (bun scripts/build.ts) to lay the binary out by it`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
