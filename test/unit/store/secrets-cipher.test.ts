/** The secrets envelope: round trip, tampering, a wrong key, and which keys are accepted. */
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { SecretsKeyError, parseSecretsKey } from "../../../src/domain";
import { SecretUnreadableError, SecretsCipher, isSealed, sealedKeyId } from "../../../src/store";

const KEY = Buffer.alloc(32, 7);
const OTHER = Buffer.alloc(32, 9);

describe("SecretsCipher", () => {
  const cipher = new SecretsCipher(KEY);

  test("round trip, with a fresh nonce per value, in a versioned envelope naming the key", () => {
    for (const text of ["s3cret", "", "ünïcødé 🔑", "x".repeat(100_000)]) {
      const sealed = cipher.encrypt(text, "variable/k");
      expect(sealed).toMatch(/^lf1:[0-9a-f]{8}:[A-Za-z0-9+/]+={0,2}$/);
      expect(sealed).not.toContain(text || "\0");
      expect(sealedKeyId(sealed)).toBe(cipher.keyId);
      expect(cipher.decrypt(sealed, "variable/k", "variable k")).toBe(text);
    }
    expect(cipher.encrypt("same", "a")).not.toBe(cipher.encrypt("same", "a"));
  });

  test("a changed byte anywhere, or a value moved to another row, does not decrypt", () => {
    const sealed = cipher.encrypt("s3cret", "connection/api/password");
    const body = Buffer.from(sealed.split(":")[2]!, "base64");
    for (const at of [0, 12, body.length - 1]) {
      const bad = Buffer.from(body);
      bad[at]! ^= 1;
      const tampered = `lf1:${cipher.keyId}:${bad.toString("base64")}`;
      expect(() => cipher.decrypt(tampered, "connection/api/password", "connection api (password)")).toThrow(
        "cannot decrypt connection api (password): the stored value does not authenticate",
      );
    }
    expect(() => cipher.decrypt(sealed, "connection/other/password", "connection other (password)")).toThrow(SecretUnreadableError);
    expect(() => cipher.decrypt(`lf1:${cipher.keyId}:AAAA`, "a", "variable a")).toThrow("the stored value is truncated");
  });

  test("a value written under another key says so, with both key ids, and how to fix it", () => {
    const other = new SecretsCipher(OTHER);
    const sealed = other.encrypt("s3cret", "connection/api/password");
    let err: unknown;
    try {
      cipher.decrypt(sealed, "connection/api/password", "connection api (password)");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SecretUnreadableError);
    expect((err as SecretUnreadableError).reason).toBe("other_key");
    expect((err as Error).message).toBe(
      `cannot decrypt connection api (password): the secrets key differs from the one it was written with (written under key id ${other.keyId}, ` +
        `this server's key id is ${cipher.keyId}); start with the key it was written with (--secrets-key or LEOFLOW_SECRETS_KEY), ` +
        "or re-encrypt with `leoflow secrets rotate --old-key OLD --new-key NEW`",
    );
  });

  test("plain text is told apart from an envelope", () => {
    expect(isSealed(cipher.encrypt("x", "a"))).toBe(true);
    for (const text of ["hunter2", "lf1:", "lf1:zzzzzzzz:AAAA", "lf2:0123abcd:AAAA", ""]) expect(isSealed(text)).toBe(false);
  });
});

describe("parseSecretsKey", () => {
  const raw = randomBytes(32);

  test.each([
    ["hex", raw.toString("hex")],
    ["upper-case hex", raw.toString("hex").toUpperCase()],
    ["base64", raw.toString("base64")],
    ["base64 without padding", raw.toString("base64").replace(/=+$/, "")],
    ["base64url", raw.toString("base64url")],
    ["with a trailing newline (a key file)", raw.toString("base64") + "\n"],
  ])("accepts 32 bytes as %s", (_, text) => {
    expect(parseSecretsKey(text, "--secrets-key")).toEqual(raw);
  });

  test.each([
    ["too short", randomBytes(16).toString("base64"), "--secrets-key decodes to 16 bytes; it must be 32 random bytes"],
    ["too long", randomBytes(48).toString("hex"), "--secrets-key decodes to 72 bytes"],
    ["a passphrase", "correct horse battery staple", "--secrets-key is neither hex nor base64 (28 characters)"],
    ["empty", "", "--secrets-key is neither hex nor base64 (0 characters)"],
  ])("refuses %s, naming the source and the fix, never the key", (_, text, message) => {
    let err: unknown;
    try {
      parseSecretsKey(text, "--secrets-key");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SecretsKeyError);
    expect((err as Error).message).toContain(message);
    expect((err as Error).message).toContain("openssl rand -base64 32");
    if (text) expect((err as Error).message).not.toContain(text);
  });

  test("the key id depends on the key", () => {
    expect(new SecretsCipher(KEY).keyId).not.toBe(new SecretsCipher(OTHER).keyId);
    expect(new SecretsCipher(KEY).keyId).toBe(new SecretsCipher(Buffer.from(KEY)).keyId);
  });
});
