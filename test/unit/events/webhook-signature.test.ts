import { describe, expect, test } from "bun:test";
import { signWebhook, verifyWebhook } from "../../../src/events";

const SECRET = "0123456789abcdef";
const BODY = '{"type":"webhook.ping"}';

describe("webhook signatures", () => {
  test("HMAC-SHA256 over `<timestamp>.<body>`, hex, prefixed sha256=", () => {
    // A known answer (e.g. `printf '1767225600.{"type":"webhook.ping"}' | openssl dgst -sha256 -hmac 0123456789abcdef`).
    expect(signWebhook(SECRET, "1767225600", BODY)).toBe(
      `sha256=${new Bun.CryptoHasher("sha256", SECRET).update(`1767225600.${BODY}`).digest("hex")}`,
    );
  });

  const sig = signWebhook(SECRET, "1000", BODY);
  test.each([
    ["the signed request", SECRET, "1000", sig, BODY, 1000, true],
    ["at the edge of the 5 minute window", SECRET, "1000", sig, BODY, 1300, true],
    ["a replay past the window", SECRET, "1000", sig, BODY, 1301, false],
    ["another secret", "another-secret-16", "1000", sig, BODY, 1000, false],
    ["a changed body", SECRET, "1000", sig, '{"type":"x"}', 1000, false],
    ["a changed timestamp", SECRET, "1001", sig, BODY, 1000, false],
    ["no signature", SECRET, "1000", null, BODY, 1000, false],
  ])("%s: %p", (_what, secret, timestamp, signature, body, nowS, expected) => {
    expect(verifyWebhook(secret, { timestamp, signature }, body, nowS)).toBe(expected);
  });
});
