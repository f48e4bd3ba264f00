// The ledger and balances as storage: every write is keyed, so replaying it is a no-op.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace routeall::billing {

enum class EntryKind : int16_t { kUsage = 1, kTopUp = 2, kAdjustment = 3 };

// A balance as of one change; version grows by one with every change of that account, so
// of two snapshots the one with the higher version is the newer.
struct BalanceSnapshot {
  int64_t account_id = 0;
  int64_t balance_micros = 0;
  int64_t version = 0;
};

// One billed request, as written to the ledger (amount_micros = -charge_micros).
struct UsageEntry {
  std::string request_id;  // entry_key = "usage:" + request_id
  int64_t account_id = 0;
  int64_t key_id = 0;
  std::string model;
  int64_t channel_id = 0;
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t reasoning_tokens = 0;
  int64_t calls = 0;
  int64_t web_searches = 0;
  int64_t charge_micros = 0;
  int64_t price_version = 0;
  absl::Time occurred_at;
};

struct SettleResult {
  // request ids of the entries actually inserted (the others were already in the ledger).
  std::vector<std::string> inserted;
  // The balance after this transaction of every account an inserted entry touched.
  std::vector<BalanceSnapshot> balances;
};

struct TopUpEntry {
  int64_t account_id = 0;
  int64_t amount_micros = 0;  // > 0 top-up, < 0 adjustment
  std::string note;
  std::string reference;  // entry_key = "topup:" + reference
  absl::Time occurred_at;
};

struct TopUpResult {
  BalanceSnapshot balance;
  bool applied = false;  // false: the reference was already in the ledger
};

struct UsageRecord {
  std::string request_id;
  std::string model;
  int64_t key_id = 0;
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t reasoning_tokens = 0;
  int64_t calls = 0;
  int64_t charge_micros = 0;
  absl::Time occurred_at;
};

struct UsageBucket {
  std::string day;  // UTC, "2026-11-25"
  std::string model;
  int64_t requests = 0;
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t reasoning_tokens = 0;
  int64_t calls = 0;
  int64_t charge_micros = 0;
};

struct UsageReport {
  std::vector<UsageRecord> records;  // newest first
  std::vector<UsageBucket> buckets;  // by day, then model
};

class LedgerStore {
 public:
  virtual ~LedgerStore() = default;

  // The stored balance; an account never written has balance 0 at version 0.
  virtual absl::StatusOr<BalanceSnapshot> GetBalance(int64_t account_id) = 0;
  // In one transaction: inserts every entry whose key is new and applies exactly those
  // to the balances. All or nothing: on error nothing was written. INVALID_ARGUMENT: some
  // entry's data cannot be stored (a balance out of bigint range, text PostgreSQL refuses);
  // retrying the same entries fails the same way. Any other error may be transient.
  virtual absl::StatusOr<SettleResult> SettleUsage(const std::vector<UsageEntry>& entries) = 0;
  // In one transaction: the ledger row and the balance change, unless the reference is
  // already there (then applied = false and the current balance). ALREADY_EXISTS when the
  // reference was used for a different account or amount.
  virtual absl::StatusOr<TopUpResult> TopUp(const TopUpEntry& entry) = 0;
  // Usage entries with from <= occurred_at < to: the `limit` newest, and all of them
  // aggregated by UTC day and model.
  virtual absl::StatusOr<UsageReport> GetUsage(int64_t account_id, absl::Time from, absl::Time to,
                                               int limit) = 0;
};

}  // namespace routeall::billing
