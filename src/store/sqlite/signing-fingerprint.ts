/** The signing secret's fingerprint on SQLite (SigningFingerprintStore; the Postgres twin is postgres/signing-fingerprint.ts). */
import type { Database } from "bun:sqlite";
import type { StoredSigningFingerprint } from "../ports/signing-fingerprint";

export function signingFingerprint(db: Database): StoredSigningFingerprint | null {
  const row = db
    .query<{ fingerprint: string; replica: string; at: number }, []>(
      "SELECT fingerprint, replica, at FROM signing_fingerprint WHERE id = 1",
    )
    .get();
  return row ? { fingerprint: row.fingerprint, replica: row.replica, at: new Date(row.at) } : null;
}

export function recordSigningFingerprint(db: Database, fingerprint: string, expected: string | null, replica: string, at: Date): boolean {
  const result =
    expected === null
      ? db
          .query("INSERT INTO signing_fingerprint (id, fingerprint, replica, at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING")
          .run(fingerprint, replica, at.getTime())
      : db
          .query("UPDATE signing_fingerprint SET fingerprint = ?, replica = ?, at = ? WHERE id = 1 AND fingerprint = ?")
          .run(fingerprint, replica, at.getTime(), expected);
  return result.changes === 1;
}
