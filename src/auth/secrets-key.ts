/**
 * Where the server's secrets key comes from: `--secrets-key` / `LEOFLOW_SECRETS_KEY`, else (Lite only) a key
 * generated once into `<data-dir>/secrets-key` with mode 0600, as the JWT secret is. Pro refuses to start
 * without one: every replica must read what any other wrote, so the key is configuration, shared like the
 * JWT secret, never a file one replica made up.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SECRETS_KEY_HINT, SecretsKeyError, parseSecretsKey } from "../domain";
import { SecretsCipher, generateSecretsKey } from "../store";

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
