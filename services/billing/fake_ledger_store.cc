// FakeLedgerStore.
#include "services/billing/fake_ledger_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace routeall::billing {

BalanceSnapshot FakeLedgerStore::Apply(int64_t account_id, int64_t delta) {
  BalanceSnapshot& b = balances_[account_id];
  b.account_id = account_id;
  b.balance_micros += delta;
  ++b.version;
  return b;
}

absl::StatusOr<BalanceSnapshot> FakeLedgerStore::GetBalance(int64_t account_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = balances_.find(account_id);
  if (it == balances_.end()) return BalanceSnapshot{account_id, 0, 0};
  return it->second;
}

absl::StatusOr<SettleResult> FakeLedgerStore::SettleUsage(const std::vector<UsageEntry>& entries) {
  std::lock_guard<std::mutex> lock(mu_);
  ++settle_calls_;
  if (fail_settles_ > 0) {
    --fail_settles_;
    return absl::UnavailableError("injected settle failure");
  }
  // Checked like PostgreSQL's bigint: a sum out of range fails the whole transaction.
  SettleResult result;
  std::map<int64_t, int64_t> delta;
  std::map<std::string, const UsageEntry*> fresh;
  for (const UsageEntry& e : entries) {
    if (usage_.count(e.request_id) > 0 || !fresh.emplace(e.request_id, &e).second) continue;
    int64_t& d = delta[e.account_id];
    if (__builtin_sub_overflow(d, e.charge_micros, &d)) {
      return absl::InvalidArgumentError("bigint out of range");
    }
  }
  for (const auto& [a, d] : delta) {
    int64_t after;
    auto b = balances_.find(a);
    if (__builtin_add_overflow(b == balances_.end() ? 0 : b->second.balance_micros, d, &after)) {
      return absl::InvalidArgumentError("bigint out of range");
    }
  }
  for (const UsageEntry& e : entries) {
    auto it = fresh.find(e.request_id);
    if (it == fresh.end() || it->second != &e) continue;
    usage_.emplace(e.request_id, e);
    result.inserted.push_back(e.request_id);
  }
  for (const auto& [a, d] : delta) result.balances.push_back(Apply(a, d));
  return result;
}

absl::StatusOr<TopUpResult> FakeLedgerStore::TopUp(const TopUpEntry& entry) {
  std::lock_guard<std::mutex> lock(mu_);
  TopUpResult result;
  auto prior = topups_.find(entry.reference);
  if (prior != topups_.end()) {
    if (prior->second.account_id != entry.account_id || prior->second.amount_micros != entry.amount_micros) {
      return absl::AlreadyExistsError(absl::StrCat("top-up reference ", entry.reference,
                                                   " was already used for a different account or amount"));
    }
    auto b = balances_.find(entry.account_id);
    result.balance = b == balances_.end() ? BalanceSnapshot{entry.account_id, 0, 0} : b->second;
    return result;
  }
  int64_t after;
  auto b = balances_.find(entry.account_id);
  const int64_t before = b == balances_.end() ? 0 : b->second.balance_micros;
  if (__builtin_add_overflow(before, entry.amount_micros, &after)) {
    return absl::InvalidArgumentError("bigint out of range");
  }
  topups_.emplace(entry.reference, entry);
  result.applied = true;
  result.balance = Apply(entry.account_id, entry.amount_micros);
  return result;
}

absl::StatusOr<UsageReport> FakeLedgerStore::GetUsage(int64_t account_id, absl::Time from, absl::Time to,
                                                      int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  UsageReport report;
  std::map<std::pair<std::string, std::string>, UsageBucket> buckets;
  for (const auto& [id, e] : usage_) {
    if (e.account_id != account_id || e.occurred_at < from || e.occurred_at >= to) continue;
    UsageRecord r{e.request_id,
                  e.model,
                  e.key_id,
                  e.prompt_tokens,
                  e.cached_tokens,
                  e.cache_write_tokens,
                  e.completion_tokens,
                  e.reasoning_tokens,
                  e.calls,
                  e.charge_micros,
                  e.occurred_at};
    report.records.push_back(r);
    std::string day = absl::FormatTime("%Y-%m-%d", e.occurred_at, absl::UTCTimeZone());
    UsageBucket& b = buckets[{day, e.model}];
    b.day = day;
    b.model = e.model;
    ++b.requests;
    b.prompt_tokens += e.prompt_tokens;
    b.cached_tokens += e.cached_tokens;
    b.cache_write_tokens += e.cache_write_tokens;
    b.completion_tokens += e.completion_tokens;
    b.reasoning_tokens += e.reasoning_tokens;
    b.calls += e.calls;
    b.charge_micros += e.charge_micros;
  }
  std::sort(report.records.begin(), report.records.end(),
            [](const UsageRecord& a, const UsageRecord& b) { return a.occurred_at > b.occurred_at; });
  if (report.records.size() > static_cast<size_t>(limit)) report.records.resize(limit);
  for (auto& [k, b] : buckets) report.buckets.push_back(b);
  return report;
}

void FakeLedgerStore::FailNextSettles(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_settles_ = n;
}

int FakeLedgerStore::settle_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return settle_calls_;
}

size_t FakeLedgerStore::usage_rows() const {
  std::lock_guard<std::mutex> lock(mu_);
  return usage_.size();
}

void FakeLedgerStore::SetStoredBalance(int64_t account_id, int64_t balance_micros) {
  std::lock_guard<std::mutex> lock(mu_);
  BalanceSnapshot& b = balances_[account_id];
  b.account_id = account_id;
  b.balance_micros = balance_micros;
  ++b.version;
}

}  // namespace routeall::billing
