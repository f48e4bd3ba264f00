// In-memory LedgerStore for unit tests; same idempotency rules as PgLedgerStore, plus
// failure injection.
#pragma once

#include <map>
#include <mutex>

#include "services/billing/ledger_store.h"

namespace routeall::billing {

class FakeLedgerStore final : public LedgerStore {
 public:
  // LedgerStore
  absl::StatusOr<BalanceSnapshot> GetBalance(int64_t account_id) override;
  absl::StatusOr<SettleResult> SettleUsage(const std::vector<UsageEntry>& entries) override;
  absl::StatusOr<TopUpResult> TopUp(const TopUpEntry& entry) override;
  absl::StatusOr<UsageReport> GetUsage(int64_t account_id, absl::Time from, absl::Time to,
                                       int limit) override;

  // Test hooks.
  void FailNextSettles(int n);
  int settle_calls() const;
  size_t usage_rows() const;
  // Sets a stored balance directly (as another writer would), bumping its version.
  void SetStoredBalance(int64_t account_id, int64_t balance_micros);

 private:
  BalanceSnapshot Apply(int64_t account_id, int64_t delta);  // mu_ held

  mutable std::mutex mu_;
  std::map<int64_t, BalanceSnapshot> balances_;
  std::map<std::string, UsageEntry> usage_;   // by request id
  std::map<std::string, TopUpEntry> topups_;  // by reference
  int fail_settles_ = 0;
  int settle_calls_ = 0;
};

}  // namespace routeall::billing
