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
  std::vector<const KafkaMessage*> event_messages;  // parallel to events
  std::vector<KafkaMessage> dead;
  std::vector<UsageEntry> entries;  // parallel to events
  bool dead_sent = false;
  bool priced = false;
  // The batch's transaction refused its data: entries are settled one by one from here.
  bool isolating = false;
  size_t next_single = 0;
  std::vector<KafkaMessage> poison;  // entries whose own transaction refused them
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
  if (!batch->empty()) {
    absl::Status st = Settle(*batch);
    if (!st.ok()) return st;
  }
  // Everything handed out so far is settled: the positions now say how far settlement got.
  CheckProgress();
  return batch->size();
}

void UsageConsumer::CheckProgress() {
  if (options_.watermark == nullptr) return;
  const absl::Time now = clock_();  // read before asking: what was in Kafka before now is below high
  if (now < next_progress_check_) return;
  next_progress_check_ = now + options_.progress_interval;
  auto progress = source_->Progress();
  if (!progress.ok() || progress->empty()) {
    if (!progress_failing_) {
      const std::string why = progress.ok() ? "no partition assigned" : progress.status().ToString();
      LogWarn("usage settlement progress unknown; hold expiry is postponed", {{"error", why}});
    }
    progress_failing_ = true;
    return;
  }
  if (progress_failing_) LogInfo("usage settlement progress known again");
  progress_failing_ = false;
  std::map<std::pair<std::string, int32_t>, int64_t> position, high;
  bool caught_up = true;
  for (const KafkaPartitionProgress& p : *progress) {
    position[{p.topic, p.partition}] = p.position;
    high[{p.topic, p.partition}] = p.high;
    caught_up &= p.position >= p.high;
  }
  if (target_.has_value()) {
    bool reached = true;
    bool reassigned = false;
    for (const auto& [tp, h] : target_->high) {
      auto it = position.find(tp);
      reassigned |= it == position.end();
      reached &= it != position.end() && it->second >= h;
    }
    if (reached) options_.watermark->Advance(target_->at);
    // A partition of the target is no longer ours (rebalance): it can never be reached here,
    // so note a new target rather than wait for it for ever.
    if (reached || reassigned) target_.reset();
  }
  if (caught_up) {
    options_.watermark->Advance(now);
    target_.reset();
  } else if (!target_.has_value()) {
    target_ = Target{now, std::move(high)};
  }
}

absl::Status UsageConsumer::Settle(const std::vector<KafkaMessage>& batch) {
  const auto started = std::chrono::steady_clock::now();
  Pending p;
  p.messages = &batch;
  for (const KafkaMessage& m : batch) {
    UsageEvent e;
    absl::Status valid = e.ParseFromString(m.payload) ? ValidateEvent(e)
                                                      : absl::InvalidArgumentError("not a UsageEvent");
    if (!valid.ok()) {
      LogError("invalid usage event", {{"topic", m.topic},
                                       {"partition", m.partition},
                                       {"offset", m.offset},
                                       {"request_id", e.request_id()},
                                       {"account_id", e.account_id()},
                                       {"error", valid.ToString()}});
      p.dead.push_back(m);
      continue;
    }
    p.events.push_back(std::move(e));
    p.event_messages.push_back(&m);
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

absl::Status ValidateEvent(const UsageEvent& e) {
  // Without these an event can be neither billed to anyone nor deduplicated.
  if (e.request_id().empty()) return absl::InvalidArgumentError("request_id is required");
  if (e.account_id() <= 0) return absl::InvalidArgumentError("account_id is required");
  // A negative charge would credit the account; one above the bound is a saturated or absurd
  // charge (common/pricing.h), never something to bill.
  if (e.charge_micros() < 0 || e.charge_micros() > kMaxChargeMicros) {
    return absl::InvalidArgumentError(
        absl::StrCat("charge_micros out of [0, ", kMaxChargeMicros, "]: ", e.charge_micros()));
  }
  if (e.multiplier_ppm() < 0) return absl::InvalidArgumentError("multiplier_ppm is negative");
  return ValidateUsage(e.usage());
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
  if (!p.settled && !p.isolating) {
    auto result = ledger_->SettleUsage(p.entries);
    if (result.ok()) {
      Applied(p, 0, p.events.size(), *result);
      p.settled = true;
    } else if (absl::IsInvalidArgument(result.status())) {
      // Some entry's data can never be stored (a balance pushed out of bigint's range): the
      // same batch would fail forever. Settle entry by entry so only that one is refused.
      LogError("usage batch refused by the ledger; settling its events one by one",
               {{"error", result.status().ToString()}, {"events", p.events.size()}});
      p.isolating = true;
    } else {
      return result.status();
    }
  }
  if (!p.settled && p.isolating) {
    for (; p.next_single < p.entries.size(); ++p.next_single) {
      const size_t i = p.next_single;
      auto result = ledger_->SettleUsage({p.entries[i]});
      if (absl::IsInvalidArgument(result.status())) {
        const UsageEvent& e = p.events[i];
        LogError("usage event refused by the ledger; sending it to the dead-letter topic",
                 {{"request_id", e.request_id()},
                  {"account_id", e.account_id()},
                  {"charge_micros", e.charge_micros()},
                  {"error", result.status().ToString()}});
        p.poison.push_back(*p.event_messages[i]);
        continue;
      }
      if (!result.ok()) return result.status();  // transient: resume at this entry
      Applied(p, i, i + 1, *result);
    }
    if (!p.poison.empty()) {
      RETURN_IF_ERROR(dead_letters_->Send(p.poison));
      metrics_->events_dead_letter.Increment(static_cast<double>(p.poison.size()));
    }
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

void UsageConsumer::Applied(Pending& p, size_t begin, size_t end, const SettleResult& result) {
  // The in-memory balances follow the ledger as soon as it committed, whatever happens to
  // the offset commit: a redelivery inserts nothing, so it could not bring them in step later.
  std::vector<SettledHold> holds;
  holds.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) holds.push_back({p.events[i].account_id(), p.events[i].hold_id()});
  book_->ApplySettled(result.balances, holds);
  metrics_->events_billed.Increment(static_cast<double>(result.inserted.size()));
  metrics_->events_duplicate.Increment(static_cast<double>((end - begin) - result.inserted.size()));
}

}  // namespace routeall::billing
