// CircuitBreakerHealth: per-channel circuit breaker over a rolling window of reported outcomes.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "services/routing/channel_health.h"
#include "services/routing/health_store.h"
#include "services/routing/routing_metrics.h"

namespace routeall::routing {

struct CircuitOptions {
  // Open after this many failures in a row...
  int32_t consecutive_failures = 3;
  // ...or when failures / requests in the window exceed error_rate with at least min_requests.
  double error_rate = 0.5;
  int32_t min_requests = 10;
  absl::Duration window = absl::Seconds(30);
  // Open -> half-open after the cooldown; it doubles on each re-open, up to max_cooldown.
  absl::Duration cooldown = absl::Seconds(10);
  absl::Duration max_cooldown = absl::Minutes(5);
  // Open (half-open included) for longer than this -> auto-disabled until an active probe succeeds.
  absl::Duration auto_disable_after = absl::Minutes(10);
  // A half-open probe slot handed to a request whose outcome never comes back (the gateway
  // succeeded on an earlier candidate, or the report was lost) is free again after this.
  absl::Duration probe_lease = absl::Seconds(60);
  // Weight of the newest sample in the latency EWMA.
  double latency_alpha = 0.2;
};

// Validates options (rates in (0,1], positive durations...).
absl::Status ValidateCircuitOptions(const CircuitOptions& o);

class CircuitBreakerHealth final : public ChannelHealth {
 public:
  using Clock = std::function<absl::Time()>;

  // metrics may be null. replica names this process in the shared table.
  CircuitBreakerHealth(CircuitOptions options, Clock clock, RoutingMetrics* metrics = nullptr,
                       std::string replica = "");

  // ChannelHealth
  Admission Admit(int64_t channel_id) override;
  void Record(int64_t channel_id, Outcome outcome, absl::Duration latency, const std::string& error) override;
  HealthInfo Info(int64_t channel_id) override;
  void Track(const std::vector<Channel>& channels) override;

  // Applies time-driven transitions (half-open, auto-disable) to every channel; Admit and
  // Info apply them to the channel they look at.
  void Sweep();
  // What the active prober should call: auto-disabled channels and those open for at least open_for.
  std::vector<Channel> ProbeTargets(absl::Duration open_for);
  // An active probe's verdict: success closes (re-enables) the circuit; failure re-opens a
  // half-open one and leaves open/auto-disabled ones as they are.
  void RecordProbe(int64_t channel_id, bool ok, absl::Duration latency, const std::string& error);

  // Transitions made by this replica since the last call, oldest first, for the shared table.
  std::vector<HealthRecord> TakeTransitions();
  // Puts back transitions that could not be saved (they go out with the next batch).
  void RequeueTransitions(std::vector<HealthRecord> records);
  // Folds in the shared table: a record newer than this replica's last transition of the
  // channel replaces its circuit state (the rolling window stays local).
  void Apply(const std::vector<HealthRecord>& records);

 private:
  struct State {
    std::string name;
    Channel channel;
    CircuitState state = CircuitState::kClosed;
    std::deque<std::pair<absl::Time, bool>> window;  // (when, failed)
    int32_t failures_in_window = 0;
    int32_t consecutive_failures = 0;
    std::string last_error;
    absl::Time opened_at = absl::InfinitePast();    // first open of the current streak
    absl::Time reopened_at = absl::InfinitePast();  // latest (re)open; retry_at = this + cooldown
    absl::Duration cooldown = absl::ZeroDuration();
    absl::Time changed_at = absl::InfinitePast();
    bool probe_claimed = false;
    absl::Time probe_claimed_at = absl::InfinitePast();
    absl::Duration latency = absl::ZeroDuration();
    bool has_latency = false;
  };

  // All below run with mu_ held.
  State* Find(int64_t channel_id);
  void Refresh(int64_t id, State& s, absl::Time now);
  void Prune(State& s, absl::Time now);
  void Open(int64_t id, State& s, absl::Time now, absl::Duration cooldown);
  void Close(int64_t id, State& s, absl::Time now, bool persist = true);
  // Moves s to `to`, updates metrics; queues a HealthRecord when persist.
  void Transition(int64_t id, State& s, CircuitState to, absl::Time now, bool persist);
  void SampleLatency(State& s, absl::Duration latency);
  HealthRecord ToRecord(int64_t id, const State& s) const;

  const CircuitOptions options_;
  const Clock clock_;
  RoutingMetrics* const metrics_;
  const std::string replica_;

  std::mutex mu_;
  std::unordered_map<int64_t, State> states_;
  std::vector<HealthRecord> pending_;
};

}  // namespace routeall::routing
