-- Variables and connections (Airflow's), read by templates of inline http tasks and by agents over RPC.
-- Values and passwords are stored as given: the API masks them on the way out, never on the way in.
CREATE TABLE variables (
  key         TEXT    PRIMARY KEY,
  value       TEXT    NOT NULL,
  description TEXT,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE connections (
  connection_id TEXT    PRIMARY KEY,
  conn_type     TEXT    NOT NULL,
  description   TEXT,
  host          TEXT,
  login         TEXT,
  password      TEXT,
  schema        TEXT,
  port          INTEGER,
  -- JSON object as text, exactly as Airflow's `extra`.
  extra         TEXT,
  updated_at    INTEGER NOT NULL
);
