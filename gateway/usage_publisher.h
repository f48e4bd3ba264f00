// Hands usage events to Kafka without making clients wait for the broker, and keeps every
// event that could not be delivered in a durable local spool until it can be.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
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
  // How often the spool is replayed while it holds events.
  std::chrono::milliseconds replay_interval{2000};
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
  // Stops replaying, waits up to flush for in-flight deliveries, spools what is left.
  void Shutdown(std::chrono::milliseconds flush);

  int64_t delivered() const { return delivered_.load(); }
  int64_t spooled() const { return spooled_.load(); }
  int64_t replayed() const { return replayed_.load(); }
  // Appends that failed (disk full): events lost. Alarm on this.
  int64_t lost() const { return lost_.load(); }

 private:
  void Send(const std::string& key, const std::string& payload, bool replay, std::shared_ptr<std::atomic<int>> left,
            std::shared_ptr<std::atomic<int>> failed);
  void ToSpool(const std::string& payload);
  void ReplayLoop();

  std::unique_ptr<Spool> spool_;  // declared before producer_: outlives its callbacks
  std::unique_ptr<MessageProducer> producer_;
  UsagePublisherOptions options_;
  std::atomic<int64_t> delivered_{0}, spooled_{0}, replayed_{0}, lost_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::mutex replay_mu_;  // one replay pass at a time
  std::thread replayer_;
};

}  // namespace routeall::gateway
