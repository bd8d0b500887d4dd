/**
 * Password hashing with Bun.password (argon2id), and a login check that costs the same whether or not the
 * user exists, so response times do not reveal which usernames are valid.
 *
 * @example const user = await authenticate(store, "admin", "s3cret"); // UserRecord | null
 */
import type { UserRecord } from "../domain";
import type { UserStore } from "../store";

/**
 * OWASP's argon2id baseline (19 MiB, 2 passes). Bun's default (64 MiB, 3 passes) took ~300 ms and left
 * 64 MiB in the server's resident set at every start; this takes ~35 ms. Verification reads the parameters
 * from the hash, so hashes made with other settings keep working.
 */
export const ARGON2_PARAMS = { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 } as const;

export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, ARGON2_PARAMS);
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(password, hash);
  } catch {
    return false; // a corrupt or foreign hash never authenticates
  }
}

let dummyHash: Promise<string> | null = null;

/** The user when the password matches, else null (unknown user and wrong password look the same). */
export async function authenticate(store: Pick<UserStore, "getUser">, username: string, password: string): Promise<UserRecord | null> {
  const user = await store.getUser(username);
  if (!user) {
    dummyHash ??= hashPassword("leoflow-timing-equalizer");
    await verifyPassword(password, await dummyHash);
    return null;
  }
  return (await verifyPassword(password, user.password_hash)) ? user : null;
}

/** A random password for a generated admin: 24 url-safe characters (144 bits). */
export function generatePassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return Buffer.from(bytes).toString("base64url");
}
