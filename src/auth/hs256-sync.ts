/**
 * HS256 JWTs signed and checked with a synchronous HMAC (Bun.CryptoHasher), for agent tokens: jose goes through
 * WebCrypto, whose async importKey + sign/verify cost ~0.5 ms per mint and ~0.4 ms per check on an idle
 * server (thread hops), and a try's hop pays one of each before its agent registers; an HMAC here is ~0.03 ms.
 * The token format is jose's. `acceptSync` only ever says yes to a token jose would accept too (our exact
 * header, our key's signature, no nbf, iat and exp numbers, not expired, the issuer and kind asked for);
 * anything else returns null and the caller asks jose, whose answer (and error message) is authoritative.
 */
// Bun.CryptoHasher, not node:crypto: evaluating node:crypto (and the node streams under it) costs a server ~5 ms
// of every start (test/architecture/startup-graph.test.ts).

/** The one header this module signs with and fast-checks: base64url of {"alg":"HS256","typ":"JWT"}. */
const HEADER = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

const signature = (key: Uint8Array, signed: string) => new Bun.CryptoHasher("sha256", key).update(signed).digest("base64url");

/** A compact JWT of `claims` under the HS256/JWT header, as jose's SignJWT makes it. */
export function signHs256Sync(claims: Record<string, unknown>, key: Uint8Array): string {
  const signed = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  return `${signed}.${signature(key, signed)}`;
}

/** The payload when `token` is certainly valid under `key` at `now` for `issuer` and `kind`; null: ask jose. */
export function acceptSync(
  token: string,
  key: Uint8Array,
  opts: { issuer: string; kind: string; now: Date },
): Record<string, unknown> | null {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== HEADER) return null;
  const expected = Buffer.from(signature(key, `${parts[0]}.${parts[1]}`));
  const given = Buffer.from(parts[2]!);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
  let payload: unknown;
  try {
    payload = JSON.parse(strictUtf8.decode(Buffer.from(parts[1]!, "base64url")));
  } catch {
    return null;
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return null;
  const p = payload as Record<string, unknown>;
  const nowSeconds = Math.floor(opts.now.getTime() / 1000);
  if (p.nbf !== undefined || typeof p.iat !== "number" || typeof p.exp !== "number" || p.exp <= nowSeconds) return null;
  if (p.iss !== opts.issuer || p.kind !== opts.kind) return null;
  return p;
}
