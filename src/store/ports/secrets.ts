/** SecretsStore: what rotating the secrets key reads (every row as stored) and its all-or-nothing rewrite. */
import type { SecretRewrite } from "../../domain";
import type { VariablesApiStore } from "./api-variables";

export interface SecretsStore extends Pick<VariablesApiStore, "listVariables" | "listConnections"> {
  /**
   * In one transaction, replaces each variable value / connection password and extra that still holds its
   * `from` text by its `to` text (updated_at unchanged: the secret did not change, its sealing did). All or
   * nothing: if any row is gone or holds something else, ConflictError and no change. Returns how many rows changed.
   */
  rewriteSecrets(rewrites: SecretRewrite[]): Promise<number>;
}
