// Which channels may receive traffic right now: the seam where the circuit breaker plugs in.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/routing/channel_store.h"

namespace routeall::routing {

enum class Outcome { kSuccess, kFailure, kClientError };

// CLOSED serves traffic; OPEN is skipped; HALF_OPEN lets one probe request through at a time;
// AUTO_DISABLED (open for too long) is skipped until an active probe succeeds.
enum class CircuitState { kClosed, kOpen, kHalfOpen, kAutoDisabled };

const char* CircuitStateName(CircuitState s);  // "closed", "open", "half_open", "auto_disabled"

// What Route may do with a channel right now.
enum class Admission {
  kAllow,     // healthy: normal weighted place in its tier
  kProbe,     // half-open and this request holds the probe slot: first in its tier
  kOpen,      // skipped, unless every candidate of the model is open (then tried anyway)
  kDisabled,  // auto-disabled: never routed
};

// A channel's health as the admin API shows it.
struct HealthInfo {
  CircuitState state = CircuitState::kClosed;
  int32_t consecutive_failures = 0;
  double error_rate = 0;        // failures / requests in the rolling window
  int32_t window_requests = 0;  // requests in the rolling window (client errors excluded)
  std::string last_error;
  absl::Time opened_at = absl::InfinitePast();  // InfinitePast when closed
  absl::Time retry_at = absl::InfinitePast();   // when an open circuit turns half-open
  absl::Duration latency = absl::ZeroDuration();  // EWMA of successful calls; zero = no sample
};

// Router asks Admit while filtering candidates and feeds every reported outcome to Record.
// Implementations must be thread-safe: Route and ReportOutcome run on many gRPC threads.
class ChannelHealth {
 public:
  virtual ~ChannelHealth() = default;
  // May claim the half-open probe slot (then returns kProbe), so call it once per Route.
  virtual Admission Admit(int64_t channel_id) = 0;
  // error: a short description for last_error (empty for successes).
  virtual void Record(int64_t channel_id, Outcome outcome, absl::Duration latency,
                      const std::string& error) = 0;
  virtual HealthInfo Info(int64_t channel_id) = 0;
  // The enabled channels after each reload (names for metrics, targets for active probes);
  // state of channels no longer present is dropped.
  virtual void Track(const std::vector<Channel>& channels) = 0;
};

// Every channel healthy; outcomes only reach metrics. The default when no breaker is wired.
class AlwaysHealthy final : public ChannelHealth {
 public:
  // ChannelHealth
  Admission Admit(int64_t) override { return Admission::kAllow; }
  void Record(int64_t, Outcome, absl::Duration, const std::string&) override {}
  HealthInfo Info(int64_t) override { return {}; }
  void Track(const std::vector<Channel>&) override {}
};

}  // namespace routeall::routing
