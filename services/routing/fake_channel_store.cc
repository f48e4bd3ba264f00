// FakeChannelStore: a map guarded by one mutex.
#include "services/routing/fake_channel_store.h"

#include "absl/strings/str_cat.h"

namespace routeall::routing {

void FakeChannelStore::set_failure(absl::Status failure) {
  std::lock_guard<std::mutex> lock(mu_);
  failure_ = std::move(failure);
}

int FakeChannelStore::load_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return load_calls_;
}

Channel FakeChannelStore::Redacted(Channel c) {
  c.api_key_set = !c.api_key.empty();
  c.api_key.clear();
  return c;
}

absl::StatusOr<Channel> FakeChannelStore::CreateChannel(const Channel& channel) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!failure_.ok()) return failure_;
  for (const auto& [id, c] : channels_) {
    if (c.name == channel.name) {
      return absl::AlreadyExistsError(absl::StrCat("channel \"", channel.name, "\" already exists"));
    }
  }
  Channel c = channel;
  c.id = next_id_++;
  channels_[c.id] = c;
  return Redacted(c);
}

absl::StatusOr<std::vector<Channel>> FakeChannelStore::ListChannels() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!failure_.ok()) return failure_;
  std::vector<Channel> out;
  for (const auto& [id, c] : channels_) out.push_back(Redacted(c));
  return out;
}

absl::StatusOr<Channel> FakeChannelStore::SetChannelEnabled(int64_t channel_id, bool enabled) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!failure_.ok()) return failure_;
  auto it = channels_.find(channel_id);
  if (it == channels_.end()) return absl::NotFoundError(absl::StrCat("channel ", channel_id, " not found"));
  it->second.enabled = enabled;
  return Redacted(it->second);
}

absl::StatusOr<std::vector<Channel>> FakeChannelStore::LoadEnabledChannels() {
  std::lock_guard<std::mutex> lock(mu_);
  ++load_calls_;
  if (!failure_.ok()) return failure_;
  std::vector<Channel> out;
  for (const auto& [id, c] : channels_) {
    if (c.enabled) out.push_back(c);
  }
  return out;
}

}  // namespace routeall::routing
