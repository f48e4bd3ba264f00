// LedgerStore on PostgreSQL: tables ledger and balances of the billing schema.
#pragma once

#include <memory>
#include <string>

#include "common/pg_pool.h"
#include "services/billing/ledger_store.h"

namespace routeall::billing {

class PgLedgerStore final : public LedgerStore {
 public:
  PgLedgerStore(std::shared_ptr<PgPool> pool, std::string schema);

  // LedgerStore
  absl::StatusOr<BalanceSnapshot> GetBalance(int64_t account_id) override;
  absl::StatusOr<SettleResult> SettleUsage(const std::vector<UsageEntry>& entries) override;
  absl::StatusOr<TopUpResult> TopUp(const TopUpEntry& entry) override;
  absl::StatusOr<UsageReport> GetUsage(int64_t account_id, absl::Time from, absl::Time to,
                                       int limit) override;

 private:
  // Runs a transaction, again when PostgreSQL aborted it for a deadlock or serialization
  // failure (a rerun of a keyed write is harmless).
  absl::Status TransactWithRetry(const std::function<void(pqxx::work&)>& fn);

  std::shared_ptr<PgPool> pool_;
  std::string schema_;
};

}  // namespace routeall::billing
