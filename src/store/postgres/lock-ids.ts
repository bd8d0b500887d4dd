/** Which advisory lock is a deployment's scheduler lock: Pro's leader election and a Lite server's hold (server-lock.ts). */
import { fnv1a32 } from "../../domain";

/** The advisory-lock id gating scheduler leadership: "LeoFlow" in hex, as in the Go implementation. */
export const LEADER_LOCK_ID = 0x4c656f466c6f77n;

/**
 * The lock id for the deployment living in `schema`. Advisory locks are per database, and several
 * deployments (or test runs) may share one database in different schemas, so any schema but the default
 * folds a hash of its name into the low 32 bits; the default schema keeps the fixed id.
 *
 * @example leaderLockIdFor(undefined) === LEADER_LOCK_ID; leaderLockIdFor("tenant_a") !== LEADER_LOCK_ID
 */
export function leaderLockIdFor(schema?: string): bigint {
  if (!schema || schema === "public") return LEADER_LOCK_ID;
  return LEADER_LOCK_ID ^ BigInt(fnv1a32(schema));
}
