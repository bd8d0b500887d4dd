/**
 * SecretsStore: what rotating the secrets key reads (every row of every team, as stored) and its
 * all-or-nothing rewrite. The key is one per install, so rotation is the one reader that crosses teams.
 */
import type { ConnectionRecord, SecretRewrite, StoredWebhookSecret, TeamOwned, VariableRecord } from "../../domain";

/** A slice of an all-teams listing (rotation reads page by page so no one query grows with the install). */
export interface Slice {
  limit: number;
  offset: number;
}

export interface SecretsStore {
  /** Every team's variables as stored, ordered by team then key, `slice` of them. */
  listAllVariables(slice: Slice): Promise<TeamOwned<VariableRecord>[]>;
  /** Every team's connections as stored, ordered by team then connection_id, `slice` of them. */
  listAllConnections(slice: Slice): Promise<TeamOwned<ConnectionRecord>[]>;
  /** Every team's webhook signing secrets as stored, ordered by id, `slice` of them. */
  listAllWebhookSecrets(slice: Slice): Promise<StoredWebhookSecret[]>;
  /**
   * In one transaction, replaces each variable value / connection password and extra / webhook secret (of the rewrite's team)
   * that still holds its `from` text by its `to` text (updated_at unchanged: the secret did not change, its
   * sealing did). All or nothing: if any row is gone or holds something else, ConflictError and no change.
   * Returns how many rows changed.
   */
  rewriteSecrets(rewrites: SecretRewrite[]): Promise<number>;
}
