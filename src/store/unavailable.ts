/**
 * Whether an error from a store call means the database is out of reach for now (a connection refused, reset or
 * lost; Postgres shutting down, restarting or out of connection slots; SQLite busy) rather than a request it will
 * never accept. Callers that answer clients (the agent RPC) say "unavailable, retry" for these, so an agent keeps
 * its try's report through a short outage instead of giving up on a task that ran. Pure.
 */

/** Node/Bun socket errors and postgres.js's own connection error codes. */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "SQLITE_BUSY",
  "SQLITE_BUSY_SNAPSHOT",
  "SQLITE_BUSY_TIMEOUT",
  "SQLITE_LOCKED",
]);

/**
 * Postgres SQLSTATEs: class 08 (connection exception), 57P01–57P03 (admin or crash shutdown, cannot connect now),
 * 53300 (too many connections), 40001 and 40P01 (serialization failure, deadlock: the same write again succeeds).
 */
const TRANSIENT_SQLSTATES: ReadonlySet<string> = new Set(["57P01", "57P02", "57P03", "53300", "40001", "40P01"]);

export function isStoreUnavailable(e: unknown): boolean {
  for (let err = e, depth = 0; err && typeof err === "object" && depth < 5; err = (err as { cause?: unknown }).cause, depth++) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && (CONNECTION_CODES.has(code) || TRANSIENT_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)))
      return true;
  }
  return false;
}
