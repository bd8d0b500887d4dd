/**
 * Resource quantities as DAG authors and operators write them: Kubernetes quantities ("500m", "2", "512Mi",
 * "4Gi", "1G") plus Docker's lowercase memory units ("512m" = 512 MiB, as `docker run --memory` reads it).
 * Every executor reads a task's resources through these, and so does a team's executor policy, so the check
 * at dispatch and the limit a container gets agree. Pure.
 *
 * @example parseMemoryBytes("512Mi") // 536870912
 * @example parseNanoCpus("500m")     // 500000000
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
// Docker's CLI spellings (`--memory 512m`): lowercase and binary. A memory "m" is never Kubernetes' milli-byte.
const DOCKER: Record<string, number> = { b: 1, m: 2 ** 20, mb: 2 ** 20, g: 2 ** 30, gb: 2 ** 30, kb: 2 ** 10 };

/** Bytes for a memory quantity ("512Mi", "1G", "256m", 1048576); null when it is not one. */
export function parseMemoryBytes(q: string | number): number | null {
  if (typeof q === "number") return Number.isFinite(q) && q > 0 ? Math.floor(q) : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(q);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? "";
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
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

/** "2", "0.5", "0.125": cores for messages. */
export function formatCpus(nanoCpus: number): string {
  return String(Number((nanoCpus / 1e9).toFixed(3)));
}
