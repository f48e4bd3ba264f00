-- Accounts, user groups and API keys (stored as SHA-256 hex, never the key itself).
CREATE TABLE groups (
  name           text PRIMARY KEY CHECK (name <> ''),
  multiplier_ppm bigint NOT NULL CHECK (multiplier_ppm >= 0),
  description    text NOT NULL DEFAULT '',
  created_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO groups (name, multiplier_ppm, description) VALUES ('default', 1000000, 'Default group, official prices');

CREATE TABLE accounts (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL CHECK (name <> ''),
  group_name text NOT NULL REFERENCES groups (name),
  disabled   boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id             bigserial PRIMARY KEY,
  account_id     bigint NOT NULL REFERENCES accounts (id),
  name           text NOT NULL DEFAULT '',
  key_hash       text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  prefix         text NOT NULL,
  -- 1 active, 2 disabled (routeall.auth.v1.KeyStatus).
  status         smallint NOT NULL DEFAULT 1 CHECK (status IN (1, 2)),
  expires_at     timestamptz,
  allowed_models text[] NOT NULL DEFAULT '{}',
  rpm_limit      integer NOT NULL DEFAULT 0 CHECK (rpm_limit >= 0),
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_account_idx ON api_keys (account_id);
