-- Secrets at rest (issue 12), with Airflow's column names: whether a variable's value, a connection's
-- password and its extra are stored encrypted (an `lf1:<key id>:<base64>` AES-256-GCM envelope, sealed and
-- opened by src/store/secrets.ts). Rows from before are plain text (false) and are sealed on their next
-- write or by `leoflow secrets rotate`. Mirrors sql/sqlite/0007_secrets.sql.
ALTER TABLE variables ADD COLUMN is_encrypted boolean NOT NULL DEFAULT false;
ALTER TABLE connections ADD COLUMN is_encrypted boolean NOT NULL DEFAULT false;
ALTER TABLE connections ADD COLUMN is_extra_encrypted boolean NOT NULL DEFAULT false;
