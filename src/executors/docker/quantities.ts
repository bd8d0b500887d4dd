/**
 * Resource quantities as DAG authors write them (Kubernetes style, plus Docker's lowercase units), turned
 * into what the Docker Engine API wants: bytes and nano-CPUs. Pure.
 *
 * @example parseMemoryBytes("512Mi") // 536870912
 * @example parseNanoCpus("500m")     // 500000000
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
// Docker's CLI spellings (`--memory 512m`): lowercase and binary.
const DOCKER: Record<string, number> = { b: 1, m: 2 ** 20, mb: 2 ** 20, g: 2 ** 30, gb: 2 ** 30, kb: 2 ** 10 };

/** Bytes for a memory quantity ("512Mi", "1G", "256m", 1048576); null when it is not one. */
export function parseMemoryBytes(q: string | number): number | null {
  if (typeof q === "number") return Number.isFinite(q) && q > 0 ? Math.floor(q) : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(q);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2]!;
  const factor = unit === "" ? 1 : (BINARY[unit] ?? DECIMAL[unit] ?? DOCKER[unit]);
  if (!factor || n <= 0) return null;
  return Math.floor(n * factor);
}

/** Nano-CPUs for a CPU quantity ("500m", "1.5", 2); null when it is not one. */
export function parseNanoCpus(q: string | number): number | null {
  const text = String(q).trim();
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(text);
  if (!m) return null;
  const cores = Number(m[1]) / (m[2] ? 1000 : 1);
  if (!(cores > 0)) return null;
  return Math.round(cores * 1e9);
}

/** "512 MiB", "1.5 GiB": for messages. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}
