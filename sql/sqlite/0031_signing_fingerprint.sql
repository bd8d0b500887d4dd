-- The fingerprint of the token signing secret a Pro deployment's replicas share (src/auth/signing-fingerprint.ts):
-- an HMAC of a fixed label keyed with the secret, never the secret. One row; `at` is epoch ms. (Pro runs on
-- Postgres only; the table is here too so both stores keep one schema and one contract.)
CREATE TABLE signing_fingerprint (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  fingerprint TEXT NOT NULL,
  replica     TEXT NOT NULL,
  at          INTEGER NOT NULL
);
