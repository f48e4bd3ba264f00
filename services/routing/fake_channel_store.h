// In-memory ChannelStore for unit tests; same integrity rules and secrecy as PgChannelStore.
#pragma once

#include <map>
#include <mutex>

#include "services/routing/channel_store.h"

namespace routeall::routing {

class FakeChannelStore final : public ChannelStore {
 public:
  // Test hook: the next calls fail with this status (OK restores normal behaviour).
  void set_failure(absl::Status failure);
  int load_calls() const;

  // ChannelStore
  absl::StatusOr<Channel> CreateChannel(const Channel& channel) override;
  absl::StatusOr<std::vector<Channel>> ListChannels() override;
  absl::StatusOr<Channel> SetChannelEnabled(int64_t channel_id, bool enabled) override;
  absl::StatusOr<std::vector<Channel>> LoadEnabledChannels() override;

 private:
  static Channel Redacted(Channel c);

  mutable std::mutex mu_;
  absl::Status failure_;
  std::map<int64_t, Channel> channels_;
  int64_t next_id_ = 1;
  int load_calls_ = 0;
};

}  // namespace routeall::routing
