/**
 * SigningFingerprintStore: the fingerprint of the token signing secret a Pro deployment's replicas share (an HMAC
 * of a fixed label keyed with the secret; src/auth/signing-fingerprint.ts). A replica checks its secret against it at
 * start; the leader moves it on when the deployment rotates its secret.
 */
export interface StoredSigningFingerprint {
  fingerprint: string;
  /** The replica that recorded it (host, pid, URL). */
  replica: string;
  at: Date;
}

export interface SigningFingerprintStore {
  /** The recorded fingerprint, or null before a replica recorded one. */
  signingFingerprint(): Promise<StoredSigningFingerprint | null>;
  /**
   * Records `fingerprint` if the stored one is still `expected` (null: none recorded yet), as one conditional
   * write; false when another replica recorded or changed it first (read it again and decide again).
   */
  recordSigningFingerprint(fingerprint: string, expected: string | null, replica: string, at: Date): Promise<boolean>;
}
