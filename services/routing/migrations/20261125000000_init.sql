-- Upstream channels and the canonical models each serves (with the upstream's own name).
CREATE TABLE channels (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL UNIQUE CHECK (name <> ''),
  provider   smallint NOT NULL,
  base_url   text NOT NULL,
  api_key    text NOT NULL DEFAULT '',
  groups     text[] NOT NULL DEFAULT '{}',
  priority   integer NOT NULL DEFAULT 0,
  weight     integer NOT NULL DEFAULT 1 CHECK (weight >= 0),
  enabled    boolean NOT NULL DEFAULT true,
  timeout_ms integer NOT NULL DEFAULT 600000 CHECK (timeout_ms > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE channel_models (
  channel_id     bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  model          text NOT NULL CHECK (model <> ''),
  upstream_model text NOT NULL,
  PRIMARY KEY (channel_id, model)
);
CREATE INDEX channel_models_model_idx ON channel_models (model);
