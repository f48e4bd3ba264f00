// Circuit transitions shared between routing replicas, and the HealthStore interface that persists them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/routing/channel_health.h"

namespace routeall::routing {

// The latest circuit transition of one channel. HALF_OPEN is a per-replica state and is never
// stored: a replica that loads OPEN derives HALF_OPEN itself once changed_at + cooldown passed.
struct HealthRecord {
  int64_t channel_id = 0;
  CircuitState state = CircuitState::kClosed;  // kClosed, kOpen or kAutoDisabled
  absl::Time changed_at;                       // when the transition happened (wall clock)
  absl::Time opened_at = absl::InfinitePast();  // start of the open streak; InfinitePast when closed
  absl::Duration cooldown = absl::ZeroDuration();  // the open circuit's current cooldown
  std::string last_error;
  std::string replica;  // who made the transition (for operators)
};

class HealthStore {
 public:
  virtual ~HealthStore() = default;
  // Upserts one row per channel; a row only moves forward (a record older than the stored
  // changed_at is ignored), so replicas writing concurrently converge on the newest.
  virtual absl::Status SaveTransitions(const std::vector<HealthRecord>& records) = 0;
  // Every stored row.
  virtual absl::StatusOr<std::vector<HealthRecord>> LoadHealth() = 0;
};

}  // namespace routeall::routing
