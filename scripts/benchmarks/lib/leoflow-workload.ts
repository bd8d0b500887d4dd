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
  dags(noopBase: string): { dag_id: string }[];
  /** Appended to the log line `<workload>: leoflow <label>`, e.g. ", 10 DAGs". */
  logSuffix?: string;
  extraArgs?: string[];
  /** Measures one started binary (the no-op server its http tasks call is `noop`); rows are collected in variant order. */
  measure(lf: Leoflow, variant: LeoflowVariant, noop: NoopServer): Promise<Row[]>;
}

/** The variants of ctx.opts.variants that can run, and the skipped rows (no Postgres) of those that cannot. */
function chooseVariants(ctx: BenchContext, spec: Pick<VariantRunSpec, "skipped">): { chosen: LeoflowVariant[]; skipped: Row[] } {
  const chosen = variants(ctx.pg).filter((v) => ctx.opts.variants.includes(v.label));
  const skipped = ctx.opts.variants
    .filter((l) => !chosen.some((c) => c.label === l))
    .flatMap((v) => spec.skipped(v).map((r) => skippedRow(r, "no Postgres")));
  return { chosen, skipped };
}

/** Starts `variant` in a fresh temp dir holding the spec's DAGs; `close` stops it and removes the dir. */
async function startVariant(
  ctx: BenchContext,
  spec: Omit<VariantRunSpec, "skipped" | "measure">,
  variant: LeoflowVariant,
  noop: NoopServer,
): Promise<{ lf: Leoflow; close(): Promise<void> }> {
  const dir = tempDir(spec.workload);
  writeDags(dir, spec.dags(noop.base));
  ctx.log(`${spec.workload}: leoflow ${variant.label}${spec.logSuffix ?? ""}`);
  let lf: Leoflow;
  try {
    lf = await startLeoflow({ dir, variant, extraArgs: spec.extraArgs });
  } catch (e) {
    removeDir(dir);
    throw e;
  }
  return {
    lf,
    close: async () => {
      await lf.stop();
      removeDir(dir);
    },
  };
}

/** Runs `spec.measure` on each variant in ctx.opts.variants, one at a time; skipped rows (no Postgres) come first. */
export async function eachLeoflowVariant(ctx: BenchContext, spec: VariantRunSpec): Promise<Row[]> {
  const noop = noopServer();
  try {
    const { chosen, skipped } = chooseVariants(ctx, spec);
    const rows: Row[] = [...skipped];
    for (const variant of chosen) {
      const { lf, close } = await startVariant(ctx, spec, variant, noop);
      try {
        rows.push(...(await spec.measure(lf, variant, noop)));
      } finally {
        await close();
      }
    }
    return rows;
  } finally {
    noop.stop();
  }
}

/** Every variant of ctx.opts.variants started at once (for trials that take turns with other subjects'). */
export interface StartedVariants {
  started: { lf: Leoflow; variant: LeoflowVariant }[];
  /** The rows of the variants that cannot run (no Postgres). */
  skipped: Row[];
  /** The no-op server the variants' http tasks call. */
  noop: NoopServer;
  /** Stops every started binary and the no-op server, removing their dirs. */
  close(): Promise<void>;
}

export async function startLeoflowVariants(ctx: BenchContext, spec: Omit<VariantRunSpec, "measure">): Promise<StartedVariants> {
  const noop = noopServer();
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.splice(0)) await c();
    noop.stop();
  };
  try {
    const { chosen, skipped } = chooseVariants(ctx, spec);
    const started: StartedVariants["started"] = [];
    for (const variant of chosen) {
      const { lf, close: stop } = await startVariant(ctx, spec, variant, noop);
      closers.push(stop);
      started.push({ lf, variant });
    }
    return { started, skipped, noop, close };
  } catch (e) {
    await close();
    throw e;
  }
}
