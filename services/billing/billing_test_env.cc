// Billing test helpers.
#include "services/billing/billing_test_env.h"

#include "common/migrations.h"
#include "common/pricing.h"
#include "common/status.h"
#include "common/testing.h"
#include "services/billing/billing_service.h"

namespace routeall::billing::testing {

absl::StatusOr<std::unique_ptr<PgSchema>> CreatePgSchema(const std::string& url, int pool_size) {
  return PgSchema::Create(url, "billing_t", Migrations(), pool_size);
}

ModelPrice SimplePrice(const std::string& model) {
  ModelPrice p;
  p.set_model(model);
  p.set_input_per_mtok(1000000);
  p.set_cache_read_per_mtok(100000);
  p.set_cache_write_per_mtok(1250000);
  p.set_output_per_mtok(2000000);
  return p;
}

billing::v1::UsageEvent MakeEvent(const std::string& request_id, int64_t account_id, const ModelPrice& price,
                                  int64_t prompt_tokens, int64_t completion_tokens,
                                  int64_t occurred_unix_seconds) {
  billing::v1::UsageEvent e;
  e.set_request_id(request_id);
  e.set_account_id(account_id);
  e.set_key_id(7);
  e.set_model(price.model());
  e.mutable_usage()->set_prompt_tokens(prompt_tokens);
  e.mutable_usage()->set_completion_tokens(completion_tokens);
  e.set_price_version(price.version());
  e.set_multiplier_ppm(kMultiplierOne);
  e.set_charge_micros(ComputeChargeMicros(price, kMultiplierOne, e.usage()));
  e.mutable_occurred_at()->set_seconds(occurred_unix_seconds);
  return e;
}

}  // namespace routeall::billing::testing

namespace routeall::billing::testing {

absl::StatusOr<std::vector<KafkaMessage>> ObservedSource::Poll(size_t max,
                                                               std::chrono::milliseconds timeout) {
  auto batch = inner_->Poll(max, timeout);
  if (batch.ok()) polled_ += static_cast<int64_t>(batch->size());
  return batch;
}

absl::Status ObservedSource::Commit(const std::vector<KafkaMessage>& batch) {
  ++commits_;
  if (crashed_ || (crash_at_ > 0 && commits_ >= crash_at_)) {
    if (!crashed_.exchange(true) && on_crash_) on_crash_();
    return absl::OkStatus();  // the process is "dead": this commit never reaches Kafka
  }
  RETURN_IF_ERROR(inner_->Commit(batch));
  committed_ += static_cast<int64_t>(batch.size());
  return absl::OkStatus();
}

}  // namespace routeall::billing::testing
