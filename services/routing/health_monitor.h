// HealthMonitor: the background half of channel health: shares circuit transitions with the
// other replicas through a HealthStore and actively probes open and auto-disabled channels.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "services/routing/channel_prober.h"
#include "services/routing/circuit_breaker_health.h"
#include "services/routing/health_store.h"
#include "services/routing/routing_metrics.h"

namespace routeall::routing {

struct HealthMonitorOptions {
  // How often transitions are written to and read from the shared table.
  absl::Duration sync_period = absl::Seconds(1);
  // How often auto-disabled channels (and channels open at least this long) are probed.
  absl::Duration probe_interval = absl::Seconds(30);
  // Upper bound of one probe call.
  absl::Duration probe_timeout = absl::Seconds(10);
  // At most this many probes per round, one after the other, so a round is bounded.
  int max_probes_per_round = 16;
};

class HealthMonitor {
 public:
  // store and prober may be null (no sharing, no active probes); metrics may be null.
  HealthMonitor(std::shared_ptr<CircuitBreakerHealth> health, std::shared_ptr<HealthStore> store,
                std::shared_ptr<ChannelProber> prober, HealthMonitorOptions options,
                RoutingMetrics* metrics = nullptr);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // Writes this replica's transitions (kept for the next round on failure), folds in the
  // table, then applies time-driven transitions.
  absl::Status SyncOnce();
  // Probes the current targets; returns how many were probed.
  int ProbeOnce();

  // Runs SyncOnce every sync_period and ProbeOnce every probe_interval, each on its own thread.
  void Start();
  void Stop();

 private:
  // Waits `period` or until Stop; false when stopping.
  bool Wait(absl::Duration period);

  std::shared_ptr<CircuitBreakerHealth> health_;
  std::shared_ptr<HealthStore> store_;
  std::shared_ptr<ChannelProber> prober_;
  const HealthMonitorOptions options_;
  RoutingMetrics* metrics_;

  std::mutex sync_mu_;  // one SyncOnce at a time (the thread and Stop's final flush)
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread sync_thread_;
  std::thread probe_thread_;
};

}  // namespace routeall::routing
