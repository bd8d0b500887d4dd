/**
 * Prometheus metrics without a client library: counters with labels, gauges read at scrape time, histograms,
 * and the text exposition format (version 0.0.4) served at GET /metrics.
 *
 * Why not prom-client: importing it costs 50–65 ms under Bun (measured beside this module's ~1 ms), and every
 * series is registered at start-up, so it cannot be loaded lazily without delaying the first scrape's series;
 * the format we need is this page. The tests hold the output to an independent parser
 * (parse-prometheus-text-format).
 *
 * @example
 * const metrics = new Metrics();
 * const reaped = metrics.counter("leoflow_reaped_total", "Task instances and runs failed by a reaper.", ["reason"]);
 * reaped.inc({ reason: "agent_lost" });
 * metrics.gauge("leoflow_event_subscribers", "Open event streams.", () => hub.subscriberCount);
 * metrics.render(); // "# HELP leoflow_reaped_total …\n# TYPE leoflow_reaped_total counter\nleoflow_reaped_total{reason=\"agent_lost\"} 1\n…"
 */
export type Labels = Record<string, string>;

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface Counter {
  inc(labels?: Labels, by?: number): void;
  get(labels?: Labels): number;
}

export interface Histogram {
  observe(labels: Labels, value: number): void;
  /** Observations so far with these labels (tests). */
  count(labels?: Labels): number;
}

/** Seconds, from a fast inline request to a long task: Prometheus' default buckets stretched to an hour. */
export const DEFAULT_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  /** Sample names default to the family's; a histogram's carry their _bucket/_sum/_count suffix. */
  samples(): [Labels, number, string?][];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export class Metrics {
  private readonly families = new Map<string, Family>();
  private readonly collectors: (() => Promise<void>)[] = [];

  /** A counter; `labelNames` are the labels every inc must give (none by default). */
  counter(name: string, help: string, labelNames: string[] = []): Counter {
    const values = new Map<string, [Labels, number]>();
    const key = (labels: Labels) => seriesKey(name, labelNames, labels);
    this.add({ name, help, type: "counter", samples: () => [...values.values()] });
    return {
      inc(labels = {}, by = 1) {
        const k = key(labels);
        const v = values.get(k);
        if (v) v[1] += by;
        else values.set(k, [Object.fromEntries(labelNames.map((l) => [l, labels[l]!])), by]);
      },
      get(labels = {}) {
        return values.get(key(labels))?.[1] ?? 0;
      },
    };
  }

  /** A value read at scrape time: a number, or labelled samples. Counters kept elsewhere use type "counter". */
  gauge(name: string, help: string, read: () => number | [Labels, number][], type: "gauge" | "counter" = "gauge"): void {
    this.add({
      name,
      help,
      type,
      samples: () => {
        const v = read();
        return typeof v === "number" ? [[{}, v]] : v;
      },
    });
  }

  /**
   * A histogram with cumulative `le` buckets, `_sum` and `_count` (the Prometheus shape, so
   * histogram_quantile works on it); `labelNames` must be given on every observe.
   */
  histogram(name: string, help: string, labelNames: string[] = [], buckets: number[] = DEFAULT_SECONDS_BUCKETS): Histogram {
    const series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
    const bounds = [...buckets].sort((a, b) => a - b);
    const key = (labels: Labels) => seriesKey(name, labelNames, labels);
    this.add({
      name,
      help,
      type: "histogram",
      samples: () => {
        const out: [Labels, number, string][] = [];
        for (const s of series.values()) {
          for (let i = 0; i < bounds.length; i++) out.push([{ ...s.labels, le: String(bounds[i]) }, s.counts[i]!, `${name}_bucket`]);
          out.push([{ ...s.labels, le: "+Inf" }, s.count, `${name}_bucket`]);
          out.push([s.labels, s.sum, `${name}_sum`], [s.labels, s.count, `${name}_count`]);
        }
        return out;
      },
    });
    return {
      observe(labels, value) {
        const k = key(labels);
        let s = series.get(k);
        if (!s) {
          s = { labels: Object.fromEntries(labelNames.map((l) => [l, labels[l]!])), counts: bounds.map(() => 0), sum: 0, count: 0 };
          series.set(k, s);
        }
        for (let i = 0; i < bounds.length; i++) if (value <= bounds[i]!) s.counts[i]!++;
        s.sum += value;
        s.count++;
      },
      count(labels = {}) {
        return series.get(key(labels))?.count ?? 0;
      },
    };
  }

  /**
   * Work to do before a scrape renders (reading the store for gauges such as runs by state). `scrape()` runs
   * them all, each bounded by `timeoutMs`; one that fails or is late leaves its previous values.
   */
  beforeScrape(collect: () => Promise<void>): void {
    this.collectors.push(collect);
  }

  /** Runs the collectors, then renders: what GET /metrics serves. */
  async scrape(timeoutMs = 2_000): Promise<string> {
    await Promise.all(
      this.collectors.map((c) => Promise.race([c().catch(() => {}), new Promise<void>((r) => setTimeout(r, timeoutMs).unref?.())])),
    );
    return this.render();
  }

  /** The exposition text. A gauge whose reader throws is left out rather than failing the scrape. */
  render(): string {
    let out = "";
    for (const f of this.families.values()) {
      let samples: [Labels, number, string?][];
      try {
        samples = f.samples();
      } catch {
        continue;
      }
      out += `# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n# TYPE ${f.name} ${f.type}\n`;
      for (const [labels, v, sample] of samples) out += `${sample ?? f.name}${formatLabels(labels)} ${formatValue(v)}\n`;
    }
    return out;
  }

  private add(f: Family): void {
    if (!NAME.test(f.name)) throw new Error(`metric name "${f.name}" is not a valid Prometheus name ([a-zA-Z_:][a-zA-Z0-9_:]*)`);
    if (this.families.has(f.name)) throw new Error(`metric ${f.name} is registered twice`);
    this.families.set(f.name, f);
  }
}

/**
 * A series' key: its label values in `labelNames` order. Built without arrays: counters and histograms are
 * touched for every task's end (task-metrics.ts), and a one-label key is the value itself.
 */
function seriesKey(name: string, labelNames: readonly string[], labels: Labels): string {
  let key = "";
  for (let i = 0; i < labelNames.length; i++) {
    const v = labels[labelNames[i]!];
    if (v === undefined) throw new Error(`metric ${name} needs label(s) ${labelNames.filter((l) => labels[l] === undefined).join(", ")}`);
    key = i === 0 ? v : `${key}\u0000${v}`;
  }
  return key;
}

export function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (!entries.length) return "";
  const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
  return `{${entries.map(([k, v]) => `${k}="${esc(v)}"`).join(",")}}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}
