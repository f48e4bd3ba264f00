// In-memory HealthStore for unit tests: the same newest-wins rule as PgHealthStore.
#pragma once

#include <map>
#include <mutex>

#include "services/routing/health_store.h"

namespace routeall::routing {

class FakeHealthStore final : public HealthStore {
 public:
  // Test hook: the next calls fail with this status (OK restores normal behaviour).
  void set_failure(absl::Status failure) {
    std::lock_guard<std::mutex> lock(mu_);
    failure_ = std::move(failure);
  }

  // HealthStore
  absl::Status SaveTransitions(const std::vector<HealthRecord>& records) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!failure_.ok()) return failure_;
    for (HealthRecord r : records) {
      // The table keeps microseconds.
      r.changed_at = absl::FromUnixMicros(absl::ToUnixMicros(r.changed_at));
      auto it = rows_.find(r.channel_id);
      if (it == rows_.end() || it->second.changed_at <= r.changed_at) rows_[r.channel_id] = r;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<HealthRecord>> LoadHealth() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!failure_.ok()) return failure_;
    std::vector<HealthRecord> out;
    for (const auto& [id, r] : rows_) out.push_back(r);
    return out;
  }

 private:
  std::mutex mu_;
  absl::Status failure_;
  std::map<int64_t, HealthRecord> rows_;
};

}  // namespace routeall::routing
