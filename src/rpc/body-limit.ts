/**
 * Reading a request body without ever holding more than a limit: a Content-Length above it is refused before a
 * byte is read, and a chunked (or lying) body is counted as it streams and abandoned at the first byte past it.
 *
 * @example
 * const body = await readBodyLimited(req, 4 * 1024 * 1024);
 * if (!body.ok) return tooLarge(body.received);
 */

/** `--rpc-max-body`'s default: far above what an agent sends (log batches, an XCom of `--xcom-max-bytes`). */
export const DEFAULT_RPC_MAX_BODY = 4 * 1024 * 1024;

export type LimitedBody = { ok: true; bytes: Uint8Array } | { ok: false /** What was known when reading stopped. */; seen: string };

/** The body of `req`, or `ok: false` as soon as it is known to exceed `maxBytes` (the rest is never read). */
export async function readBodyLimited(req: Request, maxBytes: number): Promise<LimitedBody> {
  const declared = declaredLength(req.headers);
  if (declared !== null && declared > maxBytes) return { ok: false, seen: `Content-Length ${declared}` };
  if (!req.body) return { ok: true, bytes: new Uint8Array(0) };
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return { ok: false, seen: `more than ${maxBytes} bytes received` };
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return { ok: true, bytes: chunks[0]! };
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return { ok: true, bytes };
}

/** Content-Length as a number, or null when absent or not a plain decimal (then the body is counted). */
export function declaredLength(headers: Headers): number | null {
  const v = headers.get("content-length");
  if (v === null || !/^\d+$/.test(v.trim())) return null;
  return Number(v.trim());
}

/** "4 MiB", "512 KiB", "1000 bytes": for messages. */
export function formatLimit(bytes: number): string {
  for (const [unit, size] of [
    ["GiB", 2 ** 30],
    ["MiB", 2 ** 20],
    ["KiB", 2 ** 10],
  ] as const)
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  return `${bytes} bytes`;
}
