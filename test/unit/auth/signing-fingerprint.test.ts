/** A Pro deployment's one signing secret: the fingerprint, and who may join (auth/signing-fingerprint.ts). */
import { expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { checkSigningFingerprint, signingFingerprintOf, type FingerprintCheck } from "../../../src/auth";

const OLD = "old-signing-secret-0123456789";
const NEW = "new-signing-secret-0123456789";

test("the fingerprint is an HMAC of a fixed label keyed with the secret: stable, per secret, and not the secret", () => {
  const fp = signingFingerprintOf(OLD);
  expect(fp).toMatch(/^[0-9a-f]{64}$/);
  expect(signingFingerprintOf(OLD)).toBe(fp);
  expect(signingFingerprintOf(NEW)).not.toBe(fp);
  expect(fp).not.toContain(Buffer.from(OLD).toString("hex"));
  // HMAC-SHA256 as any other implementation computes it.
  expect(fp).toBe(createHmac("sha256", OLD).update("leoflow token signing secret fingerprint v1").digest("hex"));
});

test.each<[string, string | null, string, string[], FingerprintCheck["kind"]]>([
  ["none recorded yet: record this replica's", null, OLD, [], "record"],
  ["the same secret", signingFingerprintOf(OLD), OLD, [], "same"],
  ["a rotation: the new secret, the deployment's as previous", signingFingerprintOf(OLD), NEW, [OLD], "rotated"],
  ["the deployment already rotated: the old secret as current is a stranger", signingFingerprintOf(NEW), OLD, [], "foreign"],
  ["another secret altogether", signingFingerprintOf(OLD), NEW, [], "foreign"],
  ["another secret, previous secrets that are not the deployment's either", signingFingerprintOf(OLD), NEW, ["x".repeat(20)], "foreign"],
])("%s", (_, stored, current, previous, kind) => {
  expect(checkSigningFingerprint(stored, current, previous).kind).toBe(kind);
});
