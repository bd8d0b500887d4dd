/**
 * Webhook request signing: `X-Leoflow-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, with
 * `X-Leoflow-Timestamp` the Unix time in seconds. Signing the timestamp with the body lets a receiver refuse
 * replays: it recomputes the HMAC, compares in constant time, and rejects timestamps outside its window
 * (docs/webhooks.md, 5 minutes suggested).
 *
 * @example signWebhook("s3cret-s3cret-16", "1767225600", '{"type":"webhook.ping"}') // "sha256=9c1f…"
 */
// Bun.CryptoHasher, not node:crypto: evaluating node:crypto (and the node streams under it) costs a server ~5 ms
// of every start (test/architecture/startup-graph.test.ts).

export const SIGNATURE_PREFIX = "sha256=";
/** The replay window the docs suggest and verifyWebhook applies by default. */
export const DEFAULT_REPLAY_WINDOW_S = 300;

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return SIGNATURE_PREFIX + new Bun.CryptoHasher("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

/** The receiver's side (the documented recipe, also used by the tests): signature matches and is recent. */
export function verifyWebhook(
  secret: string,
  headers: { timestamp: string | null; signature: string | null },
  body: string,
  nowS: number,
  windowS = DEFAULT_REPLAY_WINDOW_S,
): boolean {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature || !/^\d+$/.test(timestamp) || Math.abs(nowS - Number(timestamp)) > windowS) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}
