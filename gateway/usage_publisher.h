// Hands usage events to Kafka without making clients wait for the broker. Every event is first
// written to the local spool (a write-ahead log: one write(2), no fsync on the request path), so
// it survives the gateway being killed at any moment; its spool segment is deleted only once
// Kafka has acknowledged every event in it, and whatever a previous process left is replayed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/kafka.h"
#include "common/spool.h"
#include "routeall/billing/v1/usage_event.pb.h"

namespace routeall::gateway {

// Where finished requests' usage goes (the pipeline knows only this).
class UsageSink {
 public:
  virtual ~UsageSink() = default;
  virtual void Publish(const billing::v1::UsageEvent& event) = 0;
};

struct UsagePublisherOptions {
  std::string topic = "routeall.usage.v1";
  // How often the spool is replayed while it holds events (and the active segment rotated).
  std::chrono::milliseconds replay_interval{2000};
  // How often what was written to the spool is fdatasync'd (power loss, not process death).
  std::chrono::milliseconds sync_interval{100};
  // Longest back-off between replays while the broker keeps failing.
  std::chrono::milliseconds max_backoff{30000};
};

class UsagePublisher : public UsageSink {
 public:
  UsagePublisher(std::unique_ptr<MessageProducer> producer, std::unique_ptr<Spool> spool,
                 UsagePublisherOptions options);
  ~UsagePublisher() override;

  // UsageSink
  void Publish(const billing::v1::UsageEvent& event) override;

  // Runs one replay pass over the spooled segments now; returns events re-delivered.
  int ReplayOnce();
  // fdatasyncs the spool now (a background thread does every sync_interval).
  void SyncNow();
  // Stops replaying, waits up to flush for in-flight deliveries, spools what is left.
  void Shutdown(std::chrono::milliseconds flush);

  int64_t delivered() const { return delivered_.load(); }
  // Deliveries that failed and left the event waiting in the spool for a replay.
  int64_t spooled() const { return spooled_.load(); }
  int64_t replayed() const { return replayed_.load(); }
  // Events that could not be written ahead (disk full) and went to Kafka from memory only.
  int64_t unprotected() const { return unprotected_.load(); }
  // Events lost: neither delivered nor kept (spool write failed and so did the delivery), or
  // found corrupt in the spool. Alarm on this.
  int64_t lost() const { return lost_.load() + spool_->GetStats().corrupt; }
  Spool::Stats spool_stats() const { return spool_->GetStats(); }

 private:
  void Send(const std::string& key, const std::string& payload, std::optional<Spool::Ref> ref, bool replay,
            std::shared_ptr<std::atomic<int>> left, std::shared_ptr<std::atomic<int>> failed);
  void ReplayLoop();
  void SyncLoop();

  std::unique_ptr<Spool> spool_;  // declared before producer_: outlives its callbacks
  std::unique_ptr<MessageProducer> producer_;
  UsagePublisherOptions options_;
  std::atomic<int64_t> delivered_{0}, spooled_{0}, replayed_{0}, unprotected_{0}, lost_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::mutex replay_mu_;  // one replay pass at a time
  std::thread replayer_;  // rotates and replays the spool
  std::thread syncer_;    // fdatasyncs it every sync_interval
  std::atomic<bool> sync_ok_{true};  // to log a failing fsync once, not every 100 ms
};

}  // namespace routeall::gateway
