-- Variables and connections (Airflow's), read by templates of inline http tasks and by agents over RPC.
-- Values and passwords are stored as given: the API masks them on the way out, never on the way in.
-- Mirrors sql/sqlite/0003_variables_connections.sql.
CREATE TABLE variables (
  key         text COLLATE "C" PRIMARY KEY,
  value       text        NOT NULL,
  description text,
  updated_at  timestamptz NOT NULL
);

CREATE TABLE connections (
  connection_id text COLLATE "C" PRIMARY KEY,
  conn_type     text        NOT NULL,
  description   text,
  host          text,
  login         text,
  password      text,
  schema        text,
  port          integer,
  -- JSON object as text, exactly as Airflow's `extra` (kept as text: the API returns it byte for byte).
  extra         text,
  updated_at    timestamptz NOT NULL
);
