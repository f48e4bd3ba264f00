// Shared helpers of the billing integration tests: a private schema, event builders.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/pg_pool.h"
#include "common/testing.h"
#include "routeall/billing/v1/usage_event.pb.h"
#include "services/billing/price_store.h"
#include "services/billing/usage_consumer.h"

namespace routeall::billing::testing {

// The billing migrations applied into a fresh schema billing_t<suffix>; dropped on destruction.
using PgSchema = routeall::testing::PgTestSchema;
absl::StatusOr<std::unique_ptr<PgSchema>> CreatePgSchema(const std::string& url, int pool_size = 10);

// A price that makes charges easy to read: 1 micro per input token, 2 per output token.
ModelPrice SimplePrice(const std::string& model);

// A usage event priced with price (charge from common/pricing).
billing::v1::UsageEvent MakeEvent(const std::string& request_id, int64_t account_id, const ModelPrice& price,
                                  int64_t prompt_tokens, int64_t completion_tokens,
                                  int64_t occurred_unix_seconds);

// Wraps a MessageSource, counting committed messages; from the commit numbered crash_at
// (1-based; 0 = never) on, commits are dropped as if the process died just before them.
class ObservedSource final : public MessageSource {
 public:
  ObservedSource(MessageSource* inner, int crash_at = 0, std::function<void()> on_crash = nullptr)
      : inner_(inner), crash_at_(crash_at), on_crash_(std::move(on_crash)) {}

  // MessageSource
  absl::StatusOr<std::vector<KafkaMessage>> Poll(size_t max, std::chrono::milliseconds timeout) override;
  absl::Status Commit(const std::vector<KafkaMessage>& batch) override;
  void Close() override { inner_->Close(); }
  absl::StatusOr<std::vector<KafkaPartitionProgress>> Progress() override { return inner_->Progress(); }

  int64_t committed() const { return committed_.load(); }
  int64_t polled() const { return polled_.load(); }
  bool crashed() const { return crashed_.load(); }

 private:
  MessageSource* inner_;
  int crash_at_;
  std::function<void()> on_crash_;
  int commits_ = 0;
  std::atomic<int64_t> committed_{0};
  std::atomic<int64_t> polled_{0};
  std::atomic<bool> crashed_{false};
};

}  // namespace routeall::billing::testing
