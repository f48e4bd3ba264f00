// KafkaMessageSource and KafkaDeadLetterSink.
#include "services/billing/kafka_usage_io.h"

#include <condition_variable>
#include <mutex>

namespace routeall::billing {

absl::StatusOr<std::vector<KafkaMessage>> KafkaMessageSource::Poll(size_t max_messages,
                                                                   std::chrono::milliseconds timeout) {
  return consumer_->PollBatch(max_messages, timeout);
}

absl::Status KafkaMessageSource::Commit(const std::vector<KafkaMessage>& batch) {
  return consumer_->CommitSync(batch);
}

void KafkaMessageSource::Close() { consumer_->Close(); }

absl::StatusOr<std::vector<KafkaPartitionProgress>> KafkaMessageSource::Progress() {
  return consumer_->Progress(std::chrono::seconds(1));
}

absl::Status KafkaDeadLetterSink::Send(const std::vector<KafkaMessage>& messages) {
  // Shared with the delivery callbacks, which may outlive this call after a timeout.
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    size_t pending = 0;
    absl::Status first_error;
  };
  auto state = std::make_shared<State>();
  for (const KafkaMessage& m : messages) {
    {
      std::lock_guard<std::mutex> lock(state->mu);
      ++state->pending;
    }
    absl::Status st = producer_->Produce(topic_, m.key, m.payload, [state](const absl::Status& s) {
      std::lock_guard<std::mutex> lock(state->mu);
      if (!s.ok() && state->first_error.ok()) state->first_error = s;
      --state->pending;
      state->cv.notify_all();
    });
    if (!st.ok()) {
      std::lock_guard<std::mutex> lock(state->mu);
      --state->pending;
      if (state->first_error.ok()) state->first_error = st;
    }
  }
  std::unique_lock<std::mutex> lock(state->mu);
  if (!state->cv.wait_for(lock, timeout_, [&] { return state->pending == 0; })) {
    return absl::DeadlineExceededError("dead-letter delivery timed out");
  }
  return state->first_error;
}

}  // namespace routeall::billing
