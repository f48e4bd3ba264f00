-- Per-channel stream limits for the adapter (0 = the adapter's own defaults): a stream that
-- yields no content for stream_idle_timeout_ms, or lasts longer than stream_total_timeout_ms,
-- is cut.
ALTER TABLE channels
  ADD COLUMN stream_idle_timeout_ms bigint NOT NULL DEFAULT 0 CHECK (stream_idle_timeout_ms >= 0),
  ADD COLUMN stream_total_timeout_ms bigint NOT NULL DEFAULT 0 CHECK (stream_total_timeout_ms >= 0);
