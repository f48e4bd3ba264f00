// UsagePublisher: async produce, spool on failure, replay with back-off.
#include "gateway/usage_publisher.h"

#include "common/log.h"

namespace routeall::gateway {

UsagePublisher::UsagePublisher(std::unique_ptr<MessageProducer> producer, std::unique_ptr<Spool> spool,
                               UsagePublisherOptions options)
    : spool_(std::move(spool)), producer_(std::move(producer)), options_(options) {
  replayer_ = std::thread([this] { ReplayLoop(); });
}

UsagePublisher::~UsagePublisher() { Shutdown(std::chrono::seconds(5)); }

void UsagePublisher::ToSpool(const std::string& payload) {
  absl::Status st = spool_->Append(payload);
  if (st.ok()) {
    ++spooled_;
  } else {
    ++lost_;
    LogError("usage event LOST: cannot spool", {{"error", st.ToString()}, {"bytes", payload.size()}});
  }
}

void UsagePublisher::Send(const std::string& key, const std::string& payload, bool replay,
                          std::shared_ptr<std::atomic<int>> left, std::shared_ptr<std::atomic<int>> failed) {
  auto done = [this, payload, replay, left, failed](const absl::Status& st) {
    if (st.ok()) {
      ++(replay ? replayed_ : delivered_);
    } else {
      if (failed) ++*failed;
      ToSpool(payload);
    }
    if (left && --*left == 0) {
      // Take the lock so the waiter cannot miss this between its check and its wait.
      { std::lock_guard<std::mutex> lock(mu_); }
      cv_.notify_all();
    }
  };
  absl::Status st = producer_ ? producer_->Produce(options_.topic, key, payload, done)
                              : absl::UnavailableError("producer stopped");
  if (!st.ok()) done(st);
}

void UsagePublisher::Publish(const billing::v1::UsageEvent& event) {
  Send(std::to_string(event.account_id()), event.SerializeAsString(), false, nullptr, nullptr);
}

int UsagePublisher::ReplayOnce() {
  std::lock_guard<std::mutex> replay_lock(replay_mu_);
  int before = static_cast<int>(replayed_.load());
  for (const std::string& seg : spool_->TakeSegments()) {
    int corrupt = 0;
    auto records = Spool::ReadSegment(seg, &corrupt);
    if (!records.ok()) continue;
    if (corrupt > 0) LogError("corrupt usage spool records skipped", {{"segment", seg}, {"count", corrupt}});
    auto left = std::make_shared<std::atomic<int>>(static_cast<int>(records->size()));
    auto failed = std::make_shared<std::atomic<int>>(0);
    for (const std::string& payload : *records) {
      billing::v1::UsageEvent ev;
      std::string key = ev.ParseFromString(payload) ? std::to_string(ev.account_id()) : "";
      Send(key, payload, true, left, failed);
    }
    // Every record ends delivered or spooled again (into a newer segment): only then is it
    // safe to drop this file.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return left->load() == 0; });
    lock.unlock();
    Spool::RemoveSegment(seg);
    if (failed->load() > 0) break;  // the broker is still down: try the rest later
  }
  return static_cast<int>(replayed_.load()) - before;
}

void UsagePublisher::ReplayLoop() {
  auto wait = options_.replay_interval;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, wait, [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    int64_t spooled_before = spooled_.load();
    bool had_work = spool_->PendingBytes() > 0;
    if (had_work) {
      int n = ReplayOnce();
      if (n > 0) LogInfo("replayed spooled usage events", {{"count", n}});
    }
    bool failing = had_work && spooled_.load() > spooled_before;
    wait = failing ? std::min(options_.max_backoff, wait * 2) : options_.replay_interval;
    lock.lock();
  }
}

void UsagePublisher::Shutdown(std::chrono::milliseconds flush) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (replayer_.joinable()) replayer_.join();
  if (producer_) {
    (void)producer_->Flush(flush);
    // Destroying the producer fails whatever is still queued; those callbacks spool it.
    producer_.reset();
  }
}

}  // namespace routeall::gateway
