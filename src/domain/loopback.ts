/**
 * Whether a host or an address is this machine's loopback: `--auth none` is accepted only when the server listens
 * there (config.ts), and a client there gets JSON uncompressed (api/compress.ts).
 */

/** A host setting (`--host`): localhost, ::1 (bracketed or not) or 127.x.y.z. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A socket peer's address, which an IPv6 socket gives IPv4 clients as IPv4-mapped (::ffff:127.0.0.1). */
export const isLoopbackPeer = (address: string): boolean => isLoopback(address.replace(/^::ffff:/i, ""));
