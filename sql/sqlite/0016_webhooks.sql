-- Webhooks (issue 20): a team's subscriptions and the outbox of their deliveries. A delivery row is written
-- in the same transaction as the state change it reports, so a crash can never lose one; the delivery worker
-- claims due rows with a conditional update (claimed_until), so two replicas never send one row at once.
-- event_types and dag_ids are JSON arrays (dag_ids NULL: every DAG); secret is sealed by the secrets cipher.
CREATE TABLE webhooks (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  team        TEXT    NOT NULL DEFAULT 'default' REFERENCES teams (name) ON DELETE CASCADE,
  url         TEXT    NOT NULL,
  event_types TEXT    NOT NULL,
  dag_ids     TEXT,
  secret      TEXT    NOT NULL,
  enabled     INTEGER NOT NULL DEFAULT 1,
  description TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX webhooks_by_team ON webhooks (team, id);

-- state: pending (attempts so far, next_attempt_at) | delivered | dead (attempts exhausted, last_error kept).
CREATE TABLE webhook_deliveries (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  webhook_id      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  team            TEXT    NOT NULL,
  event_type      TEXT    NOT NULL,
  event           TEXT    NOT NULL,
  state           TEXT    NOT NULL DEFAULT 'pending',
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  claimed_until   INTEGER,
  last_status     INTEGER,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  delivered_at    INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, state, id);
