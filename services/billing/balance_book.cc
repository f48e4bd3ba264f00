// BalanceBook.
#include "services/billing/balance_book.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/pricing.h"

namespace routeall::billing {

void SettlementWatermark::Advance(absl::Time t) {
  const int64_t v = absl::ToUnixMicros(t);
  int64_t seen = micros_.load();
  while (v > seen && !micros_.compare_exchange_weak(seen, v)) {
  }
}

absl::Time SettlementWatermark::Through() const {
  const int64_t v = micros_.load();
  return v == std::numeric_limits<int64_t>::min() ? absl::InfinitePast() : absl::FromUnixMicros(v);
}

BalanceBook::BalanceBook(LedgerStore* store, PriceCatalog* prices, BillingMetrics* metrics, Clock clock,
                         IdGenerator new_id, BalanceBookOptions options)
    : store_(store),
      prices_(prices),
      metrics_(metrics),
      clock_(std::move(clock)),
      new_id_(std::move(new_id)),
      options_(options) {}

void BalanceBook::Install(const BalanceSnapshot& snapshot) {
  Account& a = accounts_[snapshot.account_id];
  // Snapshots arrive out of order (a lazy load racing a settlement); the version decides.
  if (!a.loaded || snapshot.version > a.balance.version) a.balance = snapshot;
  a.loaded = true;
}

absl::Status BalanceBook::EnsureLoaded(int64_t account_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = accounts_.find(account_id);
    if (it != accounts_.end() && it->second.loaded) return absl::OkStatus();
  }
  auto snapshot = store_->GetBalance(account_id);
  if (!snapshot.ok()) return snapshot.status();
  std::lock_guard<std::mutex> lock(mu_);
  Install(*snapshot);
  return absl::OkStatus();
}

void BalanceBook::DropHold(Account& account, std::map<std::string, Hold>::iterator it) {
  account.held -= it->second.micros;
  account.requests.erase(it->second.request_id);
  account.holds.erase(it);
}

int BalanceBook::ExpireLocked(int64_t account_id, Account& account, absl::Time now) {
  for (auto it = account.released.begin(); it != account.released.end();) {
    if (it->second <= now) {
      it = account.released.erase(it);
    } else {
      ++it;
    }
  }
  const absl::Time settled = options_.settled ? options_.settled->Through() : absl::InfiniteFuture();
  int n = 0;
  for (auto it = account.holds.begin(); it != account.holds.end();) {
    Hold& h = it->second;
    if (h.expires_at > now) {
      ++it;
      continue;
    }
    const bool confirmed = h.expires_at <= settled;
    if (!confirmed && now - h.created_at < options_.hold_max_age) {
      // Settlement is behind (consumer lagging, Kafka unreachable): the usage event may
      // still be on its way, and freeing the hold now would let the balance be spent twice.
      if (!h.postponed) {
        h.postponed = true;
        metrics_->holds_expiry_postponed.Increment();
        LogWarn("hold expiry postponed until usage settlement catches up",
                {{"account_id", account_id},
                 {"hold_id", it->first},
                 {"request_id", h.request_id},
                 {"hold_micros", h.micros},
                 {"settled_through", absl::FormatTime(settled)}});
      }
      ++it;
      continue;
    }
    if (confirmed) {
      // A usage event that never came: the gateway died mid-request or lost the event.
      LogWarn("hold expired without a usage event", {{"account_id", account_id},
                                                     {"hold_id", it->first},
                                                     {"request_id", h.request_id},
                                                     {"hold_micros", h.micros}});
    } else {
      LogError("hold released after --hold-max-age-ms although usage settlement never caught up",
               {{"account_id", account_id},
                {"hold_id", it->first},
                {"request_id", h.request_id},
                {"hold_micros", h.micros},
                {"settled_through", absl::FormatTime(settled)}});
    }
    metrics_->holds_expired.Increment();
    DropHold(account, it++);
    ++n;
  }
  return n;
}

int BalanceBook::ExpireHolds() {
  const absl::Time now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (auto& [id, account] : accounts_) n += ExpireLocked(id, account, now);
  return n;
}

absl::StatusOr<Reservation> BalanceBook::Reserve(const ReserveParams& p) {
  if (p.request_id.empty()) return absl::InvalidArgumentError("request_id is required");
  if (p.account_id <= 0) return absl::InvalidArgumentError("account_id is required");
  if (p.estimated_prompt_tokens < 0 || p.max_output_tokens < 0 || p.calls < 0 || p.multiplier_ppm < 0) {
    return absl::InvalidArgumentError("token counts, calls and multiplier must not be negative");
  }
  auto price = prices_->Latest(p.model);
  if (!price.ok()) {
    if (absl::IsNotFound(price.status())) metrics_->reserve_unpriced.Increment();
    return price.status();
  }
  llm::v1::Usage bound;
  bound.set_prompt_tokens(p.estimated_prompt_tokens);
  bound.set_completion_tokens(p.max_output_tokens);
  bound.set_calls(p.calls);
  const int64_t hold = ComputeChargeMicros(*price, p.multiplier_ppm, bound);
  absl::Status loaded = EnsureLoaded(p.account_id);
  if (!loaded.ok()) return loaded;

  const absl::Time now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  Account& a = accounts_[p.account_id];
  ExpireLocked(p.account_id, a, now);
  if (a.released.count(p.request_id) > 0) {
    return absl::AbortedError(
        absl::StrCat("request ", p.request_id, " was released; reserve with a new request id"));
  }
  auto existing = a.requests.find(p.request_id);
  if (existing != a.requests.end()) {
    const Hold& h = a.holds.at(existing->second);
    metrics_->reserve_ok.Increment();
    return Reservation{existing->second, h.price, h.micros, a.balance.balance_micros - a.held};
  }
  const int64_t available = a.balance.balance_micros - a.held;
  if (hold > available) {  // available - hold >= 0, written so it cannot overflow
    metrics_->reserve_insufficient.Increment();
    return absl::FailedPreconditionError(
        absl::StrCat("insufficient balance: available ", FormatCredits(available),
                     " credits, this request may cost up to ", FormatCredits(hold)));
  }
  std::string hold_id = new_id_();
  a.holds[hold_id] = Hold{p.request_id, hold, *price, now, now + options_.hold_ttl};
  a.requests[p.request_id] = hold_id;
  a.held += hold;
  metrics_->reserve_ok.Increment();
  return Reservation{hold_id, *price, hold, available - hold};
}

absl::Status BalanceBook::Release(const std::string& hold_id, int64_t account_id,
                                  const std::string& request_id) {
  if (hold_id.empty() && request_id.empty()) {
    return absl::InvalidArgumentError("hold_id or request_id is required");
  }
  if (hold_id.empty()) {
    if (account_id <= 0) return absl::InvalidArgumentError("account_id is required");
    const absl::Time now = clock_();
    std::lock_guard<std::mutex> lock(mu_);
    Account& a = accounts_[account_id];  // an unloaded entry is fine: it only holds the tombstone
    a.released[request_id] = now + options_.hold_ttl;
    auto r = a.requests.find(request_id);
    if (r != a.requests.end()) DropHold(a, a.holds.find(r->second));
    return absl::OkStatus();
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto a = accounts_.find(account_id);
  if (a == accounts_.end()) return absl::OkStatus();
  auto it = a->second.holds.find(hold_id);
  if (it != a->second.holds.end()) DropHold(a->second, it);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> BalanceBook::TopUp(int64_t account_id, int64_t amount_micros, const std::string& note,
                                           const std::string& reference) {
  if (account_id <= 0) return absl::InvalidArgumentError("account_id is required");
  if (amount_micros == 0) return absl::InvalidArgumentError("amount_micros must not be 0");
  if (amount_micros > kMaxChargeMicros || amount_micros < -kMaxChargeMicros) {
    return absl::InvalidArgumentError(absl::StrCat("amount_micros beyond +/-", kMaxChargeMicros));
  }
  // The caller's idempotency key: a payment id, an invoice number. A generated one would
  // make every retry of a timed-out call a second top-up.
  if (reference.empty()) {
    return absl::InvalidArgumentError("reference is required (the top-up's idempotency key)");
  }
  auto result = store_->TopUp(TopUpEntry{account_id, amount_micros, note, reference, clock_()});
  if (!result.ok()) return result.status();
  std::lock_guard<std::mutex> lock(mu_);
  Install(result->balance);
  if (result->applied) {
    LogInfo("balance changed", {{"account_id", account_id},
                                {"amount_micros", amount_micros},
                                {"reference", reference},
                                {"balance_micros", result->balance.balance_micros}});
  }
  return accounts_[account_id].balance.balance_micros;
}

absl::StatusOr<AccountBalance> BalanceBook::GetBalance(int64_t account_id) {
  if (account_id <= 0) return absl::InvalidArgumentError("account_id is required");
  absl::Status loaded = EnsureLoaded(account_id);
  if (!loaded.ok()) return loaded;
  const absl::Time now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  Account& a = accounts_[account_id];
  ExpireLocked(account_id, a, now);
  return AccountBalance{a.balance.balance_micros, a.held};
}

absl::StatusOr<UsageReport> BalanceBook::GetUsage(int64_t account_id, std::optional<absl::Time> from,
                                                  std::optional<absl::Time> to, int limit) {
  if (account_id <= 0) return absl::InvalidArgumentError("account_id is required");
  absl::Time end = to.value_or(clock_());
  absl::Time begin = from.value_or(end - absl::Hours(24 * 30));
  if (begin >= end) return absl::InvalidArgumentError("from must be before to");
  if (limit <= 0) limit = 100;
  if (limit > 1000) limit = 1000;
  return store_->GetUsage(account_id, begin, end, limit);
}

void BalanceBook::ApplySettled(const std::vector<BalanceSnapshot>& balances,
                               const std::vector<SettledHold>& holds) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const BalanceSnapshot& b : balances) Install(b);
  for (const SettledHold& h : holds) {
    if (h.hold_id.empty()) continue;
    auto a = accounts_.find(h.account_id);
    if (a == accounts_.end()) continue;
    auto it = a->second.holds.find(h.hold_id);
    if (it != a->second.holds.end()) DropHold(a->second, it);
  }
}

}  // namespace routeall::billing
