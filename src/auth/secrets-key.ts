/**
 * Where the server's secrets key comes from: `--secrets-key` / `LEOFLOW_SECRETS_KEY`, else (Lite only) a key
 * generated once into `<data-dir>/secrets-key` with mode 0600, as the JWT secret is. Pro refuses to start
 * without one: every replica must read what any other wrote, so the key is configuration, shared like the
 * JWT secret, never a file one replica made up.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SECRETS_KEY_HINT, SecretsKeyError, parseSecretsKey, toError } from "../domain";
import { SecretsCipher, foreignKeyIds, generateSecretsKey, readStoredSecrets, type Store } from "../store";

/** The file Lite keeps its generated key in. */
export const SECRETS_KEY_FILE = "secrets-key";

export interface SecretsKeySource {
  /** The configured key (flag or env), if any. */
  key?: string;
  mode: "lite" | "pro";
  dataDir: string;
  /** Told when a key file is generated. */
  onGenerated?: (file: string) => void;
}

/** The cipher for the configured key, or Lite's data-dir key (created on first start). */
export function loadSecretsCipher(src: SecretsKeySource): SecretsCipher {
  if (src.key !== undefined) return new SecretsCipher(parseSecretsKey(src.key, "--secrets-key (LEOFLOW_SECRETS_KEY)"));
  if (src.mode === "pro")
    throw new SecretsKeyError(
      `--mode=pro needs --secrets-key (or LEOFLOW_SECRETS_KEY) shared by every replica, to encrypt connection passwords and secret variables: ${SECRETS_KEY_HINT}`,
    );
  const file = join(src.dataDir, SECRETS_KEY_FILE);
  const existing = readKeyFile(file);
  if (existing) return existing;
  writeFileSync(file, generateSecretsKey() + "\n", { mode: 0o600, flag: "wx" });
  src.onGenerated?.(file);
  return readKeyFile(file)!;
}

/** The cipher of a key file, or null when there is no such file. */
export function readKeyFile(file: string): SecretsCipher | null {
  if (!existsSync(file)) return null;
  return new SecretsCipher(parseSecretsKey(readFileSync(file, "utf8"), `the key file ${file}`));
}

type Say = (message: string, fields?: Record<string, unknown>) => void;

/**
 * Names the secrets this server's key cannot open (a replica started with the wrong key), so the operator
 * learns at start rather than at the first task that reads one. Never throws: a failed check is a warning.
 */
export async function warnOfForeignSecrets(raw: Store, cipher: SecretsCipher, log: { error: Say; warn: Say }): Promise<void> {
  try {
    for (const [keyId, n] of foreignKeyIds(await readStoredSecrets(raw), cipher))
      log.error(
        `${n} stored secret(s) were encrypted under key id ${keyId}, not this server's key (id ${cipher.keyId}): reading them fails`,
        {
          fix: "start with the key they were written with (--secrets-key / LEOFLOW_SECRETS_KEY), or re-encrypt them with `leoflow secrets rotate`",
        },
      );
  } catch (e) {
    log.warn("could not check the stored secrets against the secrets key", { error: toError(e) });
  }
}
