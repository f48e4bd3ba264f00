// UsageConsumer: decode, dead-letter, price-check, one ledger transaction, then commit.
#include "services/billing/usage_consumer.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/pricing.h"
#include "common/status.h"
#include "routeall/billing/v1/usage_event.pb.h"

namespace routeall::billing {

using billing::v1::UsageEvent;

// One batch moving through its steps; each step is done once even when a later one is retried.
struct UsageConsumer::Pending {
  const std::vector<KafkaMessage>* messages = nullptr;
  std::vector<UsageEvent> events;
  std::vector<KafkaMessage> dead;
  std::vector<UsageEntry> entries;
  bool dead_sent = false;
  bool priced = false;
  bool settled = false;
  bool committed = false;
  int commit_failures = 0;
};

UsageConsumer::UsageConsumer(MessageSource* source, DeadLetterSink* dead_letters, LedgerStore* ledger,
                             PriceCatalog* prices, BalanceBook* book, BillingMetrics* metrics, Clock clock,
                             UsageConsumerOptions options, Sleep sleep)
    : source_(source),
      dead_letters_(dead_letters),
      ledger_(ledger),
      prices_(prices),
      book_(book),
      metrics_(metrics),
      clock_(std::move(clock)),
      options_(options),
      sleep_(sleep ? std::move(sleep)
                   : Sleep([](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); })) {}

void UsageConsumer::Stop() {
  auto deadline = std::chrono::steady_clock::now() + options_.stop_grace;
  stop_deadline_ = deadline.time_since_epoch().count();
  stop_ = true;
}

void UsageConsumer::Run() {
  bool poll_failing = false;
  std::chrono::milliseconds backoff = options_.backoff_initial;
  while (!stop_) {
    auto n = RunOnce();
    if (!n.ok()) {
      // Kafka unreachable or rebalancing: log the change of state, not every attempt.
      if (!poll_failing) LogWarn("usage poll failing", {{"error", n.status().ToString()}});
      poll_failing = true;
      sleep_(backoff);
      backoff = std::min(backoff * 2, options_.backoff_max);
      continue;
    }
    if (poll_failing) LogInfo("usage poll recovered");
    poll_failing = false;
    backoff = options_.backoff_initial;
  }
  source_->Close();
}

absl::StatusOr<size_t> UsageConsumer::RunOnce() {
  auto batch = source_->Poll(options_.max_batch, options_.poll_timeout);
  if (!batch.ok()) return batch.status();
  if (batch->empty()) return 0;
  absl::Status st = Settle(*batch);
  if (!st.ok()) return st;
  return batch->size();
}

absl::Status UsageConsumer::Settle(const std::vector<KafkaMessage>& batch) {
  const auto started = std::chrono::steady_clock::now();
  Pending p;
  p.messages = &batch;
  for (const KafkaMessage& m : batch) {
    UsageEvent e;
    // Without these an event can be neither billed to anyone nor deduplicated; a negative
    // charge would credit the account.
    if (!e.ParseFromString(m.payload) || e.request_id().empty() || e.account_id() <= 0 ||
        e.charge_micros() < 0) {
      p.dead.push_back(m);
      continue;
    }
    p.events.push_back(std::move(e));
  }
  std::chrono::milliseconds backoff = options_.backoff_initial;
  absl::Status st;
  while (true) {
    st = Advance(p);
    if (st.ok()) break;
    if (p.settled && p.commit_failures >= options_.commit_attempts) {
      LogError("usage offsets not committed; the batch will be redelivered and counted as duplicates",
               {{"error", st.ToString()}, {"messages", batch.size()}});
      break;
    }
    if (stop_ && std::chrono::steady_clock::now().time_since_epoch().count() >= stop_deadline_.load()) {
      LogError("giving up a usage batch at shutdown; it stays uncommitted and will be redelivered",
               {{"error", st.ToString()}, {"messages", batch.size()}});
      break;
    }
    LogWarn("usage batch failed; retrying the same batch",
            {{"error", st.ToString()}, {"messages", batch.size()}, {"backoff_ms", backoff.count()}});
    sleep_(backoff);
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
  metrics_->batch_seconds.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return st;
}

absl::Status UsageConsumer::Advance(Pending& p) {
  if (!p.dead_sent) {
    if (!p.dead.empty()) {
      // Delivered to the dead-letter topic before the offsets move past them.
      RETURN_IF_ERROR(dead_letters_->Send(p.dead));
      for (const KafkaMessage& m : p.dead) {
        LogError("usage message sent to the dead-letter topic", {{"topic", m.topic},
                                                                 {"partition", m.partition},
                                                                 {"offset", m.offset},
                                                                 {"bytes", m.payload.size()}});
      }
      metrics_->events_dead_letter.Increment(static_cast<double>(p.dead.size()));
    }
    p.dead_sent = true;
  }
  if (!p.priced) {
    std::vector<UsageEntry> entries;
    for (const UsageEvent& e : p.events) {
      auto price = prices_->Version(e.model(), e.price_version());
      if (!price.ok() && !absl::IsNotFound(price.status())) return price.status();
      int64_t expected = price.ok() ? ComputeChargeMicros(*price, e.multiplier_ppm(), e.usage()) : -1;
      if (expected != e.charge_micros()) {
        // The client was shown e.charge_micros in X-RouteAll-Charge-Credit; the ledger must
        // agree with it to the unit, so that is what is billed. The mismatch is a bug to fix.
        LogError("usage charge mismatch; billing the event's charge",
                 {{"request_id", e.request_id()},
                  {"account_id", e.account_id()},
                  {"model", e.model()},
                  {"price_version", e.price_version()},
                  {"event_charge_micros", e.charge_micros()},
                  {"recomputed_micros", expected},
                  {"price_known", price.ok()}});
        metrics_->charge_mismatch.Increment();
      }
      UsageEntry u;
      u.request_id = e.request_id();
      u.account_id = e.account_id();
      u.key_id = e.key_id();
      u.model = e.model();
      u.channel_id = e.channel_id();
      u.prompt_tokens = e.usage().prompt_tokens();
      u.cached_tokens = e.usage().cached_tokens();
      u.cache_write_tokens = e.usage().cache_write_tokens();
      u.completion_tokens = e.usage().completion_tokens();
      u.reasoning_tokens = e.usage().reasoning_tokens();
      u.calls = e.usage().calls();
      u.web_searches = e.usage().web_search_calls();
      u.charge_micros = e.charge_micros();
      u.price_version = e.price_version();
      u.occurred_at = e.has_occurred_at() ? absl::FromUnixSeconds(e.occurred_at().seconds()) +
                                                absl::Nanoseconds(e.occurred_at().nanos())
                                          : clock_();
      entries.push_back(std::move(u));
    }
    p.entries = std::move(entries);
    p.priced = true;
  }
  if (!p.settled) {
    ASSIGN_OR_RETURN(SettleResult result, ledger_->SettleUsage(p.entries));
    // The in-memory balances follow the ledger as soon as it committed, whatever happens to
    // the offset commit: a redelivery inserts nothing, so it could not bring them in step later.
    std::vector<SettledHold> holds;
    holds.reserve(p.events.size());
    for (const UsageEvent& e : p.events) holds.push_back({e.account_id(), e.hold_id()});
    book_->ApplySettled(result.balances, holds);
    metrics_->events_billed.Increment(static_cast<double>(result.inserted.size()));
    metrics_->events_duplicate.Increment(static_cast<double>(p.events.size() - result.inserted.size()));
    p.settled = true;
  }
  if (!p.committed) {
    absl::Status st = source_->Commit(*p.messages);
    if (!st.ok()) {
      ++p.commit_failures;
      return st;
    }
    p.committed = true;
  }
  return absl::OkStatus();
}

}  // namespace routeall::billing
