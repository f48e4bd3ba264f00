// HealthMonitor: two small loops around CircuitBreakerHealth; all decisions stay in the breaker.
#include "services/routing/health_monitor.h"

#include <algorithm>
#include <chrono>

#include "common/log.h"

namespace routeall::routing {

HealthMonitor::HealthMonitor(std::shared_ptr<CircuitBreakerHealth> health, std::shared_ptr<HealthStore> store,
                             std::shared_ptr<ChannelProber> prober, HealthMonitorOptions options,
                             RoutingMetrics* metrics)
    : health_(std::move(health)),
      store_(std::move(store)),
      prober_(std::move(prober)),
      options_(options),
      metrics_(metrics) {}

HealthMonitor::~HealthMonitor() { Stop(); }

absl::Status HealthMonitor::SyncOnce() {
  std::lock_guard<std::mutex> lock(sync_mu_);
  health_->Sweep();
  if (store_ == nullptr) {
    (void)health_->TakeTransitions();  // nobody to share them with
    return absl::OkStatus();
  }
  std::vector<HealthRecord> mine = health_->TakeTransitions();
  if (!mine.empty()) {
    absl::Status st = store_->SaveTransitions(mine);
    if (!st.ok()) {
      health_->RequeueTransitions(std::move(mine));
      return st;
    }
  }
  auto shared = store_->LoadHealth();
  if (!shared.ok()) return shared.status();
  health_->Apply(*shared);
  return absl::OkStatus();
}

int HealthMonitor::ProbeOnce() {
  if (prober_ == nullptr) return 0;
  std::vector<Channel> targets = health_->ProbeTargets(options_.probe_interval);
  if (static_cast<int>(targets.size()) > options_.max_probes_per_round) {
    targets.resize(static_cast<size_t>(options_.max_probes_per_round));
  }
  int probed = 0;
  for (const Channel& c : targets) {
    {
      std::lock_guard<std::mutex> lock(stop_mu_);
      if (stopping_) break;
    }
    absl::Duration timeout = std::min(options_.probe_timeout, c.timeout);
    auto result = prober_->Probe(c, timeout);
    ++probed;
    if (!result.ok()) {
      if (metrics_ != nullptr) metrics_->CountProbe("unreachable");
      LogWarn("channel probe could not be made", {{"channel_id", c.id}, {"error", result.status().ToString()}});
      continue;
    }
    switch (result->kind) {
      case ProbeResult::Kind::kSuccess:
        if (metrics_ != nullptr) metrics_->CountProbe("success");
        LogInfo("channel probe succeeded", {{"channel_id", c.id}, {"channel", c.name}});
        health_->RecordProbe(c.id, true, result->latency, "");
        break;
      case ProbeResult::Kind::kFailure:
        if (metrics_ != nullptr) metrics_->CountProbe("failure");
        health_->RecordProbe(c.id, false, result->latency, result->error);
        break;
      case ProbeResult::Kind::kClientError:
        // The upstream answered but rejected the probe itself: no verdict either way.
        if (metrics_ != nullptr) metrics_->CountProbe("client_error");
        LogWarn("channel probe rejected by the upstream", {{"channel_id", c.id}, {"error", result->error}});
        break;
    }
  }
  return probed;
}

bool HealthMonitor::Wait(absl::Duration period) {
  auto wait = std::chrono::milliseconds(std::max<int64_t>(1, absl::ToInt64Milliseconds(period)));
  std::unique_lock<std::mutex> lock(stop_mu_);
  return !stop_cv_.wait_for(lock, wait, [this] { return stopping_; });
}

void HealthMonitor::Start() {
  if (sync_thread_.joinable()) return;
  sync_thread_ = std::thread([this] {
    while (Wait(options_.sync_period)) {
      absl::Status st = SyncOnce();
      if (!st.ok()) LogWarn("channel health sync failed", {{"error", st.ToString()}});
    }
  });
  if (prober_ != nullptr) {
    probe_thread_ = std::thread([this] {
      while (Wait(options_.probe_interval)) ProbeOnce();
    });
  }
}

void HealthMonitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  if (probe_thread_.joinable()) probe_thread_.join();
  // Last transitions out, so the other replicas do not wait for them.
  if (store_ != nullptr) {
    absl::Status st = SyncOnce();
    if (!st.ok()) LogWarn("final channel health sync failed", {{"error", st.ToString()}});
  }
}

}  // namespace routeall::routing
