/**
 * Prometheus metrics without a client library: counters with labels, gauges read at scrape time, and the
 * text exposition format (version 0.0.4) served at GET /metrics.
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

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge";
  samples(): [Labels, number][];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export class Metrics {
  private readonly families = new Map<string, Family>();

  /** A counter; `labelNames` are the labels every inc must give (none by default). */
  counter(name: string, help: string, labelNames: string[] = []): Counter {
    const values = new Map<string, [Labels, number]>();
    const key = (labels: Labels) => {
      const missing = labelNames.filter((l) => labels[l] === undefined);
      if (missing.length) throw new Error(`metric ${name} needs label(s) ${missing.join(", ")}`);
      return labelNames.map((l) => labels[l]).join("\u0000");
    };
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

  /** The exposition text. A gauge whose reader throws is left out rather than failing the scrape. */
  render(): string {
    let out = "";
    for (const f of this.families.values()) {
      let samples: [Labels, number][];
      try {
        samples = f.samples();
      } catch {
        continue;
      }
      out += `# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n# TYPE ${f.name} ${f.type}\n`;
      for (const [labels, v] of samples) out += `${f.name}${formatLabels(labels)} ${formatValue(v)}\n`;
    }
    return out;
  }

  private add(f: Family): void {
    if (!NAME.test(f.name)) throw new Error(`metric name "${f.name}" is not a valid Prometheus name ([a-zA-Z_:][a-zA-Z0-9_:]*)`);
    if (this.families.has(f.name)) throw new Error(`metric ${f.name} is registered twice`);
    this.families.set(f.name, f);
  }
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
