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

/**
 * The URL this machine's agents use to reach a server listening on `host` (when --advertise-url is not set): the
 * address it listens on, or 127.0.0.1 when it listens on every address. Before, always 127.0.0.1: a server
 * bound to one other address (`--host 192.0.2.2`, `--host ::1`) refused its own agents, and every subprocess
 * task failed as agent_lost with an empty log.
 *
 * @example localServerUrl("0.0.0.0", 8080) // "http://127.0.0.1:8080"; localServerUrl("::1", 8080) // "http://[::1]:8080"
 */
export function localServerUrl(host: string, port: number): string {
  const h = host.replace(/^\[(.*)\]$/, "$1");
  if (h === "" || h === "0.0.0.0" || h === "::") return `http://127.0.0.1:${port}`;
  return `http://${h.includes(":") ? `[${h}]` : h}:${port}`;
}
