// UsagePublisher: write ahead to the spool, produce asynchronously, acknowledge on delivery,
// replay failures (and a previous process's leftovers) with back-off.
#include "gateway/usage_publisher.h"

#include "common/log.h"

namespace routeall::gateway {

UsagePublisher::UsagePublisher(std::unique_ptr<MessageProducer> producer, std::unique_ptr<Spool> spool,
                               UsagePublisherOptions options)
    : spool_(std::move(spool)), producer_(std::move(producer)), options_(options) {
  replayer_ = std::thread([this] { ReplayLoop(); });
  // Its own thread: a replay pass can wait on the broker for seconds.
  syncer_ = std::thread([this] { SyncLoop(); });
}

UsagePublisher::~UsagePublisher() { Shutdown(std::chrono::seconds(5)); }

void UsagePublisher::Send(const std::string& key, const std::string& payload, std::optional<Spool::Ref> ref,
                          bool replay, std::shared_ptr<std::atomic<int>> left,
                          std::shared_ptr<std::atomic<int>> failed) {
  // The payload is kept in memory only for an event the spool could not take.
  auto done = [this, ref, replay, left, failed, spare = ref ? std::string() : payload](const absl::Status& st) {
    if (st.ok()) {
      if (ref) spool_->Ack(*ref);
      ++(replay ? replayed_ : delivered_);
    } else {
      if (failed) ++*failed;
      std::optional<Spool::Ref> kept = ref;
      if (!kept) {
        // Never written ahead (the spool failed at Publish): one more try now.
        auto again = spool_->Append(spare);
        if (again.ok()) kept = *again;
      }
      if (kept) {
        spool_->Nack(*kept);  // stays on disk; a replay re-sends it
        ++spooled_;
      } else {
        ++lost_;
        LogError("usage event LOST: not delivered and cannot spool",
                 {{"error", st.ToString()}, {"bytes", spare.size()}});
      }
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
  std::string payload = event.SerializeAsString();
  std::optional<Spool::Ref> ref;
  auto written = spool_->Append(payload);
  if (written.ok()) {
    ref = *written;
  } else {
    int64_t n = ++unprotected_;
    if (n == 1 || n % 1000 == 0) {
      LogError("usage spool write failed: event held in memory only until Kafka acks it",
               {{"error", written.status().ToString()}, {"count", n}});
    }
  }
  Send(std::to_string(event.account_id()), payload, ref, false, nullptr, nullptr);
}

int UsagePublisher::ReplayOnce() {
  std::lock_guard<std::mutex> replay_lock(replay_mu_);
  int before = static_cast<int>(replayed_.load());
  int64_t corrupt_before = spool_->GetStats().corrupt;
  // Close the active segment: its failed events become replayable, and a fully acknowledged
  // one is deleted.
  spool_->Rotate();
  for (uint64_t seg : spool_->SegmentsToReplay()) {
    auto records = spool_->ClaimForReplay(seg);
    if (!records.ok()) {
      LogError("cannot read usage spool segment", {{"error", records.status().ToString()}});
      continue;
    }
    if (records->empty()) continue;
    auto left = std::make_shared<std::atomic<int>>(static_cast<int>(records->size()));
    auto failed = std::make_shared<std::atomic<int>>(0);
    for (const Spool::Record& rec : *records) {
      billing::v1::UsageEvent ev;
      std::string key = ev.ParseFromString(rec.payload) ? std::to_string(ev.account_id()) : "";
      Send(key, rec.payload, rec.ref, true, left, failed);
    }
    // Every record ends acknowledged (and the file deleted once all are) or back in the spool.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return left->load() == 0; });
    lock.unlock();
    if (failed->load() > 0) break;  // the broker is still down: try the rest later
  }
  int64_t corrupt = spool_->GetStats().corrupt - corrupt_before;
  if (corrupt > 0) LogError("usage events LOST: corrupt spool records skipped", {{"count", corrupt}});
  return static_cast<int>(replayed_.load()) - before;
}

void UsagePublisher::SyncNow() {
  absl::Status st = spool_->Sync();
  if (!st.ok() && sync_ok_.exchange(false)) LogError("usage spool fsync failing", {{"error", st.ToString()}});
  if (st.ok()) sync_ok_ = true;
}

void UsagePublisher::SyncLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.sync_interval, [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    SyncNow();
    lock.lock();
  }
}

void UsagePublisher::ReplayLoop() {
  auto wait = options_.replay_interval;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, wait, [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    spool_->Rotate();  // even when nothing failed: acknowledged segments are deleted
    int64_t spooled_before = spooled_.load();
    bool had_work = !spool_->SegmentsToReplay().empty();
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
  if (syncer_.joinable()) syncer_.join();
  if (producer_) {
    (void)producer_->Flush(flush);
    // Destroying the producer fails whatever is still queued: those events stay in the spool.
    producer_.reset();
  }
  spool_->Rotate();
  SyncNow();
}

}  // namespace routeall::gateway
