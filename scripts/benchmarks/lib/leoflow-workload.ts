/**
 * The frame every binary-driven workload shares: a local no-op HTTP server, a "skipped: no Postgres" row set
 * for each asked-for variant that cannot run, and per chosen variant a fresh temp dir with the workload's
 * DAGs, a started binary, and clean-up (stop, remove the dir) however the measurement ends.
 */
import { skippedRow, type BenchContext } from "./context";
import {
  noopServer,
  removeDir,
  startLeoflow,
  tempDir,
  variants,
  writeDags,
  type Leoflow,
  type LeoflowVariant,
  type NoopServer,
} from "./leoflow";
import type { Row } from "./stats";

export interface VariantRunSpec {
  /** Workload name: the temp dir prefix and the log line's prefix. */
  workload: string;
  /** The rows a variant would have produced (without samples), shown skipped when it cannot run; `label` is the variant's label. */
  skipped(label: string): Omit<Row, "samples" | "note">[];
  /** The DAGs to write, given the no-op server's base URL. */
  dags(noopBase: string): { dag_id: string; team?: string }[];
  /** Appended to the log line `<workload>: leoflow <label>`, e.g. ", 10 DAGs". */
  logSuffix?: string;
  extraArgs?: string[];
  /** Measures one started binary (the no-op server its http tasks call is `noop`); rows are collected in variant order. */
  measure(lf: Leoflow, variant: LeoflowVariant, noop: NoopServer): Promise<Row[]>;
}

/** Runs `spec.measure` on each variant in ctx.opts.variants; skipped rows (no Postgres) come first. */
export async function eachLeoflowVariant(ctx: BenchContext, spec: VariantRunSpec): Promise<Row[]> {
  const rows: Row[] = [];
  const noop = noopServer();
  try {
    const chosen = variants(ctx.pg).filter((v) => ctx.opts.variants.includes(v.label));
    for (const v of ctx.opts.variants.filter((l) => !chosen.some((c) => c.label === l)))
      rows.push(...spec.skipped(v).map((r) => skippedRow(r, "no Postgres")));
    for (const variant of chosen) {
      const dir = tempDir(spec.workload);
      writeDags(dir, spec.dags(noop.base));
      ctx.log(`${spec.workload}: leoflow ${variant.label}${spec.logSuffix ?? ""}`);
      const lf = await startLeoflow({ dir, variant, extraArgs: spec.extraArgs });
      try {
        rows.push(...(await spec.measure(lf, variant, noop)));
      } finally {
        await lf.stop();
        removeDir(dir);
      }
    }
  } finally {
    noop.stop();
  }
  return rows;
}
