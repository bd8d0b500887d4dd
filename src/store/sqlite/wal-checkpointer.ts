/**
 * WalCheckpointer: moves SQLite's WAL checkpoints off the server's thread. By default SQLite checkpoints inside
 * the commit that takes the WAL past 1,000 pages: that commit copies the pages into the database file and
 * fsyncs it, a 5–20 ms stall on whatever write happened to be the 1,000th page (traced: an inline task's end
 * committed in 0.07 ms at the median and 11 ms at worst; mostly waiting on the disk, not CPU). With the
 * checkpoints on the worker, a 1,000-task inline fan-out on SQLite did 1.15–1.25× more tasks/s (three
 * alternating A/B pairs, idle 2 cores). Here the server's connection checkpoints only as a backstop
 * (BACKSTOP_PAGES), and a worker thread with its own connection runs PASSIVE checkpoints (they never block
 * readers or the writer) every `everyMs`, on the other core.
 *
 * The worker starts only once the WAL file first reaches `startAtBytes`: a server that writes little (and every
 * short-lived CLI command) never pays for a second thread and its heap.
 *
 * @example
 * const checkpoints = new WalCheckpointer(db, "/var/lib/leoflow/leoflow.db");
 * checkpoints.start();
 * // ... on close:
 * await checkpoints.stop();
 */
import type { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import { isCompiledMain } from "../../domain";

/** The server's own connection checkpoints past this many WAL pages (~40 MiB): only when the worker lags or died. */
export const BACKSTOP_PAGES = 10_000;

/** How long stop() waits for the worker to close its connection before terminating it. */
const CLOSE_WAIT_MS = 1_000;

export interface WalCheckpointerOptions {
  /** The WAL size at which the worker starts (default 4 MiB: SQLite's own threshold of 1,000 pages). */
  startAtBytes?: number;
  /** How often the WAL file's size is looked at until the worker runs, and how often the worker checkpoints (ms). */
  everyMs?: number;
}

/** What the worker answers after each checkpoint (SQLite's wal_checkpoint row), for tests and diagnostics. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export class WalCheckpointer {
  private watch: Timer | null = null;
  private worker: Worker | null = null;
  private readonly startAtBytes: number;
  private readonly everyMs: number;
  /** The last checkpoint the worker reported (null before the first one). */
  last: CheckpointResult | null = null;
  /** Checkpoints the worker has run. */
  runs = 0;

  constructor(
    private readonly db: Database,
    private readonly path: string,
    opts: WalCheckpointerOptions = {},
  ) {
    this.startAtBytes = opts.startAtBytes ?? 4 * 1024 * 1024;
    this.everyMs = opts.everyMs ?? 100;
  }

  /** Hands checkpoints to the worker (started when the WAL first grows large); the connection keeps only a backstop. */
  start(): void {
    if (this.watch || this.worker) return;
    this.db.run(`PRAGMA wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    this.watch = setInterval(() => this.startWhenLarge(), this.everyMs);
    this.watch.unref();
  }

  /** Whether the worker thread is running. */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Stops the worker (a checkpoint in flight completes or is abandoned; SQLite recovers either way). */
  async stop(): Promise<void> {
    if (this.watch) clearInterval(this.watch);
    this.watch = null;
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    // Its connection closed first (bounded: a worker stuck in a checkpoint is terminated all the same).
    const closed = new Promise<void>((resolve) => {
      worker.onmessage = (e: MessageEvent) => e.data === "closed" && resolve();
    });
    worker.postMessage("close");
    await Promise.race([closed, Bun.sleep(CLOSE_WAIT_MS)]);
    await worker.terminate();
  }

  private startWhenLarge(): void {
    let size = 0;
    try {
      size = statSync(`${this.path}-wal`).size;
    } catch {
      return; // no WAL file yet
    }
    if (size < this.startAtBytes) return;
    if (this.watch) clearInterval(this.watch);
    this.watch = null;
    // smol: a small heap is plenty for one prepared statement; ref false: it never keeps the process alive.
    const worker = new Worker(workerEntry(), { smol: true, ref: false, name: "wal-checkpointer" });
    worker.onmessage = (e: MessageEvent<CheckpointResult | "closed">) => {
      if (e.data === "closed") return;
      this.last = e.data;
      this.runs++;
    };
    // A worker that failed to open or died: the connection's backstop checkpoints from then on.
    worker.onerror = () => {
      if (this.worker !== worker) return; // stopped meanwhile: the store is closing
      void this.stop()
        .then(() => this.db.run("PRAGMA wal_autocheckpoint = 1000"))
        .catch(() => {});
    };
    worker.postMessage({ path: this.path, everyMs: this.everyMs });
    this.worker = worker;
  }
}

/**
 * The worker's entrypoint. In the compiled binary it is one of the build's entrypoints (scripts/build.ts), kept
 * under the binary's root by its path below src/ and named from there (checked with a compiled binary: a path
 * relative to this module's chunk does not resolve); from the source tree, the file next to this one.
 */
function workerEntry(): string {
  return isCompiledMain(Bun.main) ? "./store/sqlite/wal-checkpoint-worker.ts" : new URL("./wal-checkpoint-worker.ts", import.meta.url).href;
}
