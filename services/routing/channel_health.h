// Which channels may receive traffic right now; the seam where circuit breaking will plug in.
#pragma once

#include <cstdint>

#include "absl/time/time.h"

namespace routeall::routing {

enum class Outcome { kSuccess, kFailure, kClientError };

// Router asks IsHealthy while filtering candidates and feeds every reported outcome to Record.
// Implementations must be thread-safe: Route and ReportOutcome run on many gRPC threads.
class ChannelHealth {
 public:
  virtual ~ChannelHealth() = default;
  virtual bool IsHealthy(int64_t channel_id) = 0;
  virtual void Record(int64_t channel_id, Outcome outcome, absl::Duration latency) = 0;
};

// Until a circuit breaker exists every channel is healthy and outcomes only reach metrics.
class AlwaysHealthy final : public ChannelHealth {
 public:
  // ChannelHealth
  bool IsHealthy(int64_t) override { return true; }
  void Record(int64_t, Outcome, absl::Duration) override {}
};

}  // namespace routeall::routing
