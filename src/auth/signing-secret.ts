/**
 * Where the token signing secret (user JWTs and agent tokens) comes from: `--jwt-secret` /
 * `LEOFLOW_JWT_SECRET`, else (Lite only) one generated once into `<data-dir>/jwt-secret` with mode 0600 so
 * tokens survive restarts. Pro refuses to start without one: every replica must accept what any other signed.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
// crypto.getRandomValues, not node:crypto: evaluating node:crypto (and the node streams under it) costs a server
// ~5 ms of every start (test/architecture/startup-graph.test.ts).
import { LeoflowError } from "../domain";

/** The file Lite keeps its generated signing secret in. */
export const SIGNING_SECRET_FILE = "jwt-secret";

export interface SigningSecretSource {
  /** The configured secret (flag or env), if any. */
  secret?: string;
  mode: "lite" | "pro";
  dataDir: string;
  /** Told when a secret file is generated. */
  onGenerated?: (file: string) => void;
}

/** The configured secret, or Lite's data-dir secret (created on first start). */
export function loadSigningSecret(src: SigningSecretSource): string {
  if (src.secret !== undefined) return src.secret;
  if (src.mode === "pro")
    throw new LeoflowError("--mode=pro needs --jwt-secret (or LEOFLOW_JWT_SECRET) shared by every replica, at least 16 characters");
  const file = join(src.dataDir, SIGNING_SECRET_FILE);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  writeFileSync(file, secret + "\n", { mode: 0o600 });
  src.onGenerated?.(file);
  return secret;
}
