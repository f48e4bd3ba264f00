// Settles usage events from Kafka into the ledger: exactly once in money terms, because
// offsets are committed only after the ledger transaction and every row is keyed by request id.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/kafka.h"
#include "routeall/billing/v1/usage_event.pb.h"
#include "services/billing/balance_book.h"
#include "services/billing/billing_metrics.h"
#include "services/billing/ledger_store.h"
#include "services/billing/price_catalog.h"

namespace routeall::billing {

// Where usage messages come from (a KafkaConsumer in production, a queue in tests).
class MessageSource {
 public:
  virtual ~MessageSource() = default;
  virtual absl::StatusOr<std::vector<KafkaMessage>> Poll(size_t max_messages,
                                                         std::chrono::milliseconds timeout) = 0;
  // Commits the position after every message of batch.
  virtual absl::Status Commit(const std::vector<KafkaMessage>& batch) = 0;
  virtual void Close() = 0;
  // Position and high watermark of each assigned partition (KafkaConsumer::Progress). A
  // source that cannot tell never lets settlement count as caught up.
  virtual absl::StatusOr<std::vector<KafkaPartitionProgress>> Progress() {
    return absl::UnimplementedError("progress unknown");
  }
};

// Where messages that cannot be billed go. Send returns once every message is delivered.
class DeadLetterSink {
 public:
  virtual ~DeadLetterSink() = default;
  virtual absl::Status Send(const std::vector<KafkaMessage>& messages) = 0;
};

struct UsageConsumerOptions {
  size_t max_batch = 500;
  std::chrono::milliseconds poll_timeout{200};
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  // After Stop(), how long a failing batch in hand is still retried before giving up on
  // it (uncommitted, so it is redelivered to the next consumer).
  std::chrono::milliseconds stop_grace{10000};
  // Offset commits retried this many times; after that the batch is left uncommitted
  // (its ledger rows are written, so a redelivery only counts duplicates).
  int commit_attempts = 5;
  // Advanced as settlement catches up (hold expiry waits for it); nullptr: not tracked.
  // Between batches, at most every progress_interval (of the injected clock), the source's
  // Progress() is read: all partitions at their high watermark => caught up now; else the
  // high watermarks are noted with the time, and once every position has reached them,
  // settlement is caught up to that time (so a steady stream still advances it).
  SettlementWatermark* watermark = nullptr;
  absl::Duration progress_interval = absl::Seconds(1);
};

// OK, or why the event is poison (dead-lettered, never billed): no request or account id, a
// charge outside [0, kMaxChargeMicros], a negative multiplier, or usage failing
// ValidateUsage (negative, above kMaxUsageCount, or parts larger than their whole).
absl::Status ValidateEvent(const billing::v1::UsageEvent& event);

class UsageConsumer {
 public:
  using Sleep = std::function<void(std::chrono::milliseconds)>;

  UsageConsumer(MessageSource* source, DeadLetterSink* dead_letters, LedgerStore* ledger,
                PriceCatalog* prices, BalanceBook* book, BillingMetrics* metrics, Clock clock,
                UsageConsumerOptions options = {}, Sleep sleep = nullptr);

  // Polls until Stop(), settling each batch before polling the next; then closes the source.
  void Run();
  // Polls once and settles what came; returns the number of messages in the batch.
  absl::StatusOr<size_t> RunOnce();
  // Settles one polled batch, retrying each failing step with back-off until it succeeds
  // (or, after Stop(), until the grace period ends).
  absl::Status Settle(const std::vector<KafkaMessage>& batch);
  // Thread-safe; Run() finishes the batch in hand, then returns.
  void Stop();

 private:
  struct Pending;

  absl::Status Advance(Pending& p);
  // Between batches: reads the source's progress and advances the watermark.
  void CheckProgress();
  // After a ledger transaction of events [begin, end): memory, holds and counters.
  void Applied(Pending& p, size_t begin, size_t end, const SettleResult& result);

  MessageSource* source_;
  DeadLetterSink* dead_letters_;
  LedgerStore* ledger_;
  PriceCatalog* prices_;
  BalanceBook* book_;
  BillingMetrics* metrics_;
  Clock clock_;
  UsageConsumerOptions options_;
  Sleep sleep_;
  // CheckProgress state (consumer thread only).
  absl::Time next_progress_check_ = absl::InfinitePast();
  bool progress_failing_ = false;
  struct Target {
    absl::Time at;
    std::map<std::pair<std::string, int32_t>, int64_t> high;
  };
  std::optional<Target> target_;
  std::atomic<bool> stop_{false};
  std::atomic<std::chrono::steady_clock::rep> stop_deadline_{0};
};

}  // namespace routeall::billing
