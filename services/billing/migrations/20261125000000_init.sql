-- Price catalog (versioned, never updated in place), balances and the ledger.
CREATE TABLE prices (
  model                text NOT NULL CHECK (model <> ''),
  version              bigint NOT NULL CHECK (version > 0),
  input_per_mtok       bigint NOT NULL CHECK (input_per_mtok >= 0),
  cache_read_per_mtok  bigint NOT NULL CHECK (cache_read_per_mtok >= 0),
  cache_write_per_mtok bigint NOT NULL CHECK (cache_write_per_mtok >= 0),
  output_per_mtok      bigint NOT NULL CHECK (output_per_mtok >= 0),
  reasoning_per_mtok   bigint CHECK (reasoning_per_mtok >= 0),
  per_call             bigint NOT NULL DEFAULT 0 CHECK (per_call >= 0),
  per_search           bigint NOT NULL DEFAULT 0 CHECK (per_search >= 0),
  created_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model, version)
);

-- version counts every change, so an in-memory copy can tell which of two snapshots is newer.
CREATE TABLE balances (
  account_id     bigint PRIMARY KEY,
  balance_micros bigint NOT NULL DEFAULT 0,
  version        bigint NOT NULL DEFAULT 0,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per billed request or money movement; entry_key makes every write idempotent.
-- kind: 1 usage (amount = -charge), 2 topup (amount > 0), 3 adjustment (amount < 0).
CREATE TABLE ledger (
  id                 bigserial PRIMARY KEY,
  entry_key          text NOT NULL UNIQUE,
  kind               smallint NOT NULL CHECK (kind IN (1, 2, 3)),
  account_id         bigint NOT NULL,
  key_id             bigint NOT NULL DEFAULT 0,
  model              text NOT NULL DEFAULT '',
  channel_id         bigint NOT NULL DEFAULT 0,
  prompt_tokens      bigint NOT NULL DEFAULT 0,
  cached_tokens      bigint NOT NULL DEFAULT 0,
  cache_write_tokens bigint NOT NULL DEFAULT 0,
  completion_tokens  bigint NOT NULL DEFAULT 0,
  reasoning_tokens   bigint NOT NULL DEFAULT 0,
  calls              bigint NOT NULL DEFAULT 0,
  web_searches       bigint NOT NULL DEFAULT 0,
  amount_micros      bigint NOT NULL,
  price_version      bigint NOT NULL DEFAULT 0,
  request_id         text NOT NULL DEFAULT '',
  note               text NOT NULL DEFAULT '',
  occurred_at        timestamptz NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now()
);
-- GetUsage reads one account's time range: records newest first, buckets over the range.
CREATE INDEX ledger_account_time_idx ON ledger (account_id, occurred_at);
