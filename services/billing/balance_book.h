// Balances and holds: the pre-check that keeps concurrent requests from spending money an
// account does not have, and the money movements that go through the ledger.
#pragma once

#include <atomic>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/billing/billing_metrics.h"
#include "services/billing/ledger_store.h"
#include "services/billing/price_catalog.h"

namespace routeall::billing {

// Returns a fresh unique id (hold ids).
using IdGenerator = std::function<std::string()>;

// How far usage settlement has caught up: every usage event that was in Kafka before
// Through() has been settled. Advanced by the UsageConsumer, read by the BalanceBook.
class SettlementWatermark {
 public:
  // Moves the watermark forward to t (never back).
  void Advance(absl::Time t);
  // InfinitePast until the first Advance.
  absl::Time Through() const;

 private:
  std::atomic<int64_t> micros_{std::numeric_limits<int64_t>::min()};
};

struct BalanceBookOptions {
  // A hold whose usage event has not come by then is released without charge...
  absl::Duration hold_ttl = absl::Minutes(30);
  // ...but only once settlement has caught up past its expiry (settled->Through() >=
  // expiry), so an event still in Kafka can never find its hold gone and the balance spent
  // twice. Until then expiry is postponed (counted). nullptr: no consumer, TTL alone.
  const SettlementWatermark* settled = nullptr;
  // A hold older than this is released even unconfirmed (logged as an error), so a
  // consumer down for good cannot freeze balances for ever.
  absl::Duration hold_max_age = absl::Hours(24);
};

struct ReserveParams {
  std::string request_id;
  int64_t account_id = 0;
  std::string model;
  int64_t estimated_prompt_tokens = 0;
  int64_t max_output_tokens = 0;
  int64_t calls = 0;
  int64_t multiplier_ppm = 0;
};

struct Reservation {
  std::string hold_id;
  ModelPrice price;
  int64_t hold_micros = 0;
  int64_t available_micros = 0;  // balance - open holds, this one included
};

struct AccountBalance {
  int64_t balance_micros = 0;
  int64_t held_micros = 0;
};

// A settled usage event's hold, to release when its ledger row is written.
struct SettledHold {
  int64_t account_id = 0;
  std::string hold_id;
};

class BalanceBook {
 public:
  BalanceBook(LedgerStore* store, PriceCatalog* prices, BillingMetrics* metrics, Clock clock,
              IdGenerator new_id, BalanceBookOptions options = {});

  // NOT_FOUND: unpriced model. FAILED_PRECONDITION: insufficient balance. A retry with
  // the same request id returns the hold already taken.
  absl::StatusOr<Reservation> Reserve(const ReserveParams& params);
  // Drops the hold by hold_id or, when that is empty, by the request id it was reserved
  // for; OK when it is already gone. Releasing by request id also makes a later Reserve for
  // that request id ABORTED for hold_ttl (a Reserve that outlived its caller's deadline).
  absl::Status Release(const std::string& hold_id, int64_t account_id, const std::string& request_id = "");
  // Returns the balance after the top-up (or the current one for a replayed reference).
  // INVALID_ARGUMENT: no reference, amount 0 or beyond +/-kMaxChargeMicros.
  absl::StatusOr<int64_t> TopUp(int64_t account_id, int64_t amount_micros, const std::string& note,
                                const std::string& reference);
  absl::StatusOr<AccountBalance> GetBalance(int64_t account_id);
  // Unset bounds: the last 30 days. limit <= 0: 100; capped at 1000.
  absl::StatusOr<UsageReport> GetUsage(int64_t account_id, std::optional<absl::Time> from,
                                       std::optional<absl::Time> to, int limit);

  // After a ledger transaction committed: the new balances and the holds it settled, in
  // one step so a settled charge never counts together with its own hold.
  void ApplySettled(const std::vector<BalanceSnapshot>& balances, const std::vector<SettledHold>& holds);
  // Releases every expired hold whose expiry settlement has confirmed (or that is older than
  // hold_max_age), logged and counted; returns how many.
  int ExpireHolds();

 private:
  struct Hold {
    std::string request_id;
    int64_t micros = 0;
    ModelPrice price;
    absl::Time created_at;
    absl::Time expires_at;
    bool postponed = false;  // expiry postponed at least once (counted once)
  };
  struct Account {
    bool loaded = false;
    BalanceSnapshot balance;
    int64_t held = 0;
    std::map<std::string, Hold> holds;            // by hold id
    std::map<std::string, std::string> requests;  // request id -> hold id
    std::map<std::string, absl::Time> released;   // request id released by id -> until
  };

  // The account with its balance loaded from the store once; mu_ not held on entry.
  absl::Status EnsureLoaded(int64_t account_id);
  // Keeps the newer of the two snapshots; mu_ held.
  void Install(const BalanceSnapshot& snapshot);
  void DropHold(Account& account, std::map<std::string, Hold>::iterator it);  // mu_ held
  int ExpireLocked(int64_t account_id, Account& account, absl::Time now);     // mu_ held

  LedgerStore* store_;
  PriceCatalog* prices_;
  BillingMetrics* metrics_;
  Clock clock_;
  IdGenerator new_id_;
  BalanceBookOptions options_;

  std::mutex mu_;
  std::map<int64_t, Account> accounts_;
};

}  // namespace routeall::billing
