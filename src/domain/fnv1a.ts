/**
 * FNV-1a, 32 bits: a stable, dependency-free hash of a short name. Per-deployment Postgres names (the
 * leader lock id, the NOTIFY channels) fold in the hash of their schema with it.
 *
 * @example fnv1a32("tenant_a").toString(16)
 */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h >>> 0;
}
