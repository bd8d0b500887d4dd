/** What every workload gets: the parsed sizes, Postgres (or null), whether the peers can run, a logger. */
import type { BenchPg } from "./pg";
import type { Row } from "./stats";

export interface BenchOptions {
  /** Repeated trials per subject (each workload has its own default when unset). */
  trials?: number;
  /** Untimed fan-out rounds per subject before its trials (the JIT's compiles out of the timed ones). */
  warmup: number;
  /** Hops of the chain (tasks = hops + 1 would be off by one: the chain has `chain` tasks). */
  chain: number;
  fanout: number;
  /** Fan-out size for subprocess (bash) tasks: process spawns cap their rate, so it is smaller. */
  fanoutBash: number;
  parallelism: number;
  runs: number;
  runTasks: number;
  cronDags: number;
  cronSeconds: number;
  /** Lines the log-heavy task prints (logs workload). */
  logLines: number;
  /** Leoflow variants to run: any of "lite sqlite", "lite postgres", "pro postgres". */
  variants: string[];
  /** Task kinds: http (inline), bash (subprocess), empty (completed by the scheduler's plan; fan-out only). */
  kinds: TaskKind[];
  /** How the binaries are launched: bare (as `./leoflow serve` from a shell) or with the systemd unit's environment. */
  launch: "bare" | "unit";
}

export type TaskKind = "http" | "bash" | "empty";

export interface BenchContext {
  opts: BenchOptions;
  pg: BenchPg | null;
  /** null when the peers are installed and their servers answer; else why each is skipped. */
  skipBullmq: string | null;
  skipGraphile: string | null;
  log(message: string): void;
}

export type Workload = (ctx: BenchContext) => Promise<Row[]>;

/** A row that did not run, with the reason in its note (the table still shows it). */
export function skippedRow(r: Omit<Row, "samples" | "note">, why: string): Row {
  return { ...r, samples: [], note: `skipped: ${why}` };
}
