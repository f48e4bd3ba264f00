-- The latest circuit transition of each channel, shared by every routing replica (each folds
-- it into its own state every --health-sync-ms). HALF_OPEN is per replica and never stored.
CREATE TABLE channel_health (
  channel_id  bigint PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
  state       text NOT NULL CHECK (state IN ('closed', 'open', 'auto_disabled')),
  changed_at  timestamptz NOT NULL,
  opened_at   timestamptz,
  cooldown_ms bigint NOT NULL DEFAULT 0 CHECK (cooldown_ms >= 0),
  last_error  text NOT NULL DEFAULT '',
  replica     text NOT NULL DEFAULT '',
  CHECK ((state = 'closed') = (opened_at IS NULL))
);
