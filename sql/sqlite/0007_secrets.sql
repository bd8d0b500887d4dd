-- Secrets at rest (issue 12), with Airflow's column names: whether a variable's value, a connection's
-- password and its extra are stored encrypted (an `lf1:<key id>:<base64>` AES-256-GCM envelope, sealed and
-- opened by src/store/secrets.ts). Rows from before are plain text (0) and are sealed on their next write
-- or by `leoflow secrets rotate`.
ALTER TABLE variables ADD COLUMN is_encrypted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN is_encrypted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN is_extra_encrypted INTEGER NOT NULL DEFAULT 0;
