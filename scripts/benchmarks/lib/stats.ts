/**
 * Results of the bench: one Row per (workload, metric, subject) holding every sample, summarized as
 * median and p99, and rendered as markdown tables with ratios to the best peer and to the floor.
 */

export type Kind = "leoflow" | "peer" | "floor";

export interface Row {
  workload: string;
  /** What is measured, with its unit, e.g. "per-hop latency (ms)". Rows of one metric share a table. */
  metric: string;
  /** Who was measured, e.g. "leoflow lite sqlite · http" or "bullmq 6.7.0". */
  subject: string;
  kind: Kind;
  better: "lower" | "higher";
  samples: number[];
  /** Subject of the floor row this one is compared with (looked up among all rows of the run). */
  floor?: string;
  /** The floor row's metric when it differs from this row's (e.g. RSS under load vs the floor's idle RSS). */
  floorMetric?: string;
  /** Why a row has no samples (skipped), or anything a reader must know to read it. */
  note?: string;
}

/**
 * Leoflow's rows and the peers', the peers' trials run in two halves around Leoflow's (ceil(trials / 2) before,
 * the rest after) and joined into one row each: this VM's speed drifts within minutes, and peers measured only on
 * one side put all of a drift into the ratio. `peers(n)` runs n trials of every peer.
 */
export async function bracketedByPeers(
  trials: number,
  peers: (n: number) => Promise<Row[]>,
  leoflow: () => Promise<Row[]>,
): Promise<Row[]> {
  const first = Math.ceil(trials / 2);
  const before = await peers(first);
  const ours = await leoflow();
  const after = trials > first ? await peers(trials - first) : [];
  const joined = before.map((row) => {
    const more = after.find((r) => r.metric === row.metric && r.subject === row.subject);
    return more ? { ...row, samples: [...row.samples, ...more.samples] } : row;
  });
  return [...ours, ...joined];
}

export interface Summary {
  n: number;
  median: number | null;
  p99: number | null;
  min: number | null;
  max: number | null;
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
export function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** p99 is the bad tail: the 99th percentile when lower is better, the 1st when higher is better (throughput). */
export function summarize(samples: number[], better: "lower" | "higher" = "lower"): Summary {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    median: percentile(s, 50),
    p99: percentile(s, better === "lower" ? 99 : 1),
    min: s[0] ?? null,
    max: s.at(-1) ?? null,
  };
}

export interface RowResult extends Row, Summary {
  /** Leoflow rows: median ÷ the best peer's median (same workload and metric), when peers ran. */
  vs_best_peer: number | null;
  /** median ÷ the floor row's median, when the floor ran. */
  vs_floor: number | null;
}

/** Adds summaries and ratios. The best peer is the lowest (or highest) median among the peers of a metric. */
export function withRatios(rows: Row[]): RowResult[] {
  const summaries = new Map(rows.map((r) => [r, summarize(r.samples, r.better)]));
  return rows.map((r) => {
    const s = summaries.get(r)!;
    const peers = rows.filter(
      (p) => p.kind === "peer" && p.workload === r.workload && p.metric === r.metric && summaries.get(p)!.median !== null,
    );
    const medians = peers.map((p) => summaries.get(p)!.median!);
    const best = medians.length ? (r.better === "lower" ? Math.min(...medians) : Math.max(...medians)) : null;
    const floorRow = r.floor
      ? rows.find((f) => f.kind === "floor" && f.subject === r.floor && f.metric === (r.floorMetric ?? r.metric))
      : undefined;
    const floor = floorRow ? summaries.get(floorRow)!.median : null;
    const ratio = (base: number | null) => (s.median !== null && base ? s.median / base : null);
    return { ...r, ...s, vs_best_peer: r.kind === "leoflow" ? ratio(best) : null, vs_floor: ratio(floor) };
  });
}

const fmt = (v: number | null) => (v === null ? "—" : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
const times = (v: number | null) => (v === null ? "—" : `${v >= 10 ? v.toFixed(0) : v >= 0.1 ? v.toFixed(2) : v.toPrecision(2)}×`);

/** One markdown table per (workload, metric), in the order rows were produced. */
export function renderTables(rows: RowResult[]): string {
  const groups = new Map<string, RowResult[]>();
  for (const r of rows) {
    const key = `${r.workload}\u0000${r.metric}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: string[] = [];
  for (const group of groups.values()) {
    const first = group[0]!;
    out.push(
      `#### ${first.workload}: ${first.metric}, ${first.better} is better${first.better === "higher" ? " (p99: the slowest 1%)" : ""}`,
      "",
    );
    out.push("| subject | n | median | p99 | × best peer | × floor | note |", "|---|---:|---:|---:|---:|---:|---|");
    for (const r of group)
      out.push(
        `| ${r.subject} | ${r.n} | ${fmt(r.median)} | ${fmt(r.p99)} | ${times(r.vs_best_peer)} | ${times(r.vs_floor)} | ${r.note ?? ""} |`,
      );
    out.push("");
  }
  return out.join("\n");
}
