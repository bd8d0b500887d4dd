/** The signing secret's fingerprint on Postgres (SigningFingerprintStore; the SQLite twin is sqlite/signing-fingerprint.ts). */
import type { StoredSigningFingerprint } from "../ports/signing-fingerprint";
import { query, type Pool } from "./client";

export async function signingFingerprint(sql: Pool): Promise<StoredSigningFingerprint | null> {
  const [row] = await query<StoredSigningFingerprint>(sql, "SELECT fingerprint, replica, at FROM signing_fingerprint WHERE id = 1", []);
  return row ? { fingerprint: row.fingerprint, replica: row.replica, at: row.at } : null;
}

export async function recordSigningFingerprint(
  sql: Pool,
  fingerprint: string,
  expected: string | null,
  replica: string,
  at: Date,
): Promise<boolean> {
  const rows =
    expected === null
      ? await query(
          sql,
          `INSERT INTO signing_fingerprint (id, fingerprint, replica, at) VALUES (1, $1, $2, $3)
           ON CONFLICT (id) DO NOTHING RETURNING id`,
          [fingerprint, replica, at],
        )
      : await query(
          sql,
          "UPDATE signing_fingerprint SET fingerprint = $1, replica = $2, at = $3 WHERE id = 1 AND fingerprint = $4 RETURNING id",
          [fingerprint, replica, at, expected],
        );
  return rows.length === 1;
}
