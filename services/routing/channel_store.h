// The routing domain's channel record and the ChannelStore interface that persists it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "routeall/llm/v1/llm.pb.h"

namespace routeall::routing {

struct ModelMapping {
  std::string model;           // canonical name clients use
  std::string upstream_model;  // the provider's name on this channel (filled in by Router)
};

struct Channel {
  int64_t id = 0;
  std::string name;
  routeall::llm::v1::Dialect provider = routeall::llm::v1::DIALECT_UNSPECIFIED;
  std::string base_url;
  // Set only by LoadEnabledChannels (routing needs it); every listing leaves it empty and
  // says through api_key_set whether one exists.
  std::string api_key;
  bool api_key_set = false;
  std::vector<ModelMapping> models;
  std::vector<std::string> groups;  // empty = every group
  int32_t priority = 0;
  int32_t weight = 1;
  bool enabled = true;
  absl::Duration timeout = absl::Seconds(600);
  // Stream limits passed to the adapter; zero = the adapter's defaults.
  absl::Duration stream_idle_timeout = absl::ZeroDuration();
  absl::Duration stream_total_timeout = absl::ZeroDuration();
};

// Persistence of channels. Implementations check integrity only (duplicate name ->
// ALREADY_EXISTS, unknown id -> NOT_FOUND); Router validates inputs before calling.
class ChannelStore {
 public:
  virtual ~ChannelStore() = default;

  // Returns the stored channel with its id, without the api_key.
  virtual absl::StatusOr<Channel> CreateChannel(const Channel& channel) = 0;
  // Every channel, ordered by id, without api_keys.
  virtual absl::StatusOr<std::vector<Channel>> ListChannels() = 0;
  virtual absl::StatusOr<Channel> SetChannelEnabled(int64_t channel_id, bool enabled) = 0;
  // The enabled channels with their models and api_keys: what Router routes over.
  virtual absl::StatusOr<std::vector<Channel>> LoadEnabledChannels() = 0;
};

}  // namespace routeall::routing
