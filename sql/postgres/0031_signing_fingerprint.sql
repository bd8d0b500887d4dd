-- The fingerprint of the token signing secret a Pro deployment's replicas share (src/auth/signing-fingerprint.ts):
-- an HMAC of a fixed label keyed with the secret, never the secret. A replica started with another secret is
-- refused at start instead of joining and failing the tokens the others signed. One row.
CREATE TABLE signing_fingerprint (
  id          smallint PRIMARY KEY CHECK (id = 1),
  fingerprint text NOT NULL,
  replica     text NOT NULL,
  at          timestamptz NOT NULL
);
