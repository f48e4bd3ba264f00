// ChannelProber: one minimal real call to a channel, so routing can tell when a dead one is back.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/routing/channel_store.h"

namespace routeall::routing {

struct ProbeResult {
  enum class Kind { kSuccess, kFailure, kClientError };
  Kind kind = Kind::kFailure;
  std::string error;  // empty on success
  absl::Duration latency = absl::ZeroDuration();
};

class ChannelProber {
 public:
  virtual ~ChannelProber() = default;
  // A non-OK status means the probe could not be made at all (the adapter is unreachable):
  // that says nothing about the channel.
  virtual absl::StatusOr<ProbeResult> Probe(const Channel& channel, absl::Duration timeout) = 0;
};

}  // namespace routeall::routing
