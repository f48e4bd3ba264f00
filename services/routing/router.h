// The routing domain: which channels may serve a model for a group, in the order to try them.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/routing/channel_health.h"
#include "services/routing/channel_store.h"
#include "services/routing/routing_metrics.h"

namespace routeall::routing {

// One place a request may be sent, with what the gateway needs to call it.
struct Candidate {
  int64_t channel_id = 0;
  std::string channel_name;
  routeall::llm::v1::Dialect provider = routeall::llm::v1::DIALECT_UNSPECIFIED;
  std::string base_url;
  std::string api_key;
  std::string upstream_model;
  int32_t priority = 0;
  absl::Duration timeout;
  absl::Duration stream_idle_timeout;
  absl::Duration stream_total_timeout;
};

// Routes over an in-memory snapshot of the enabled channels, so Route never touches the
// database. The snapshot is rebuilt after each admin write made through this Router and on
// a timer (StartPeriodicReload): with several routing replicas, a write on one reaches the
// others within one period.
class Router {
 public:
  // Uniform in [0, 1). Called under a lock, so it need not be thread-safe.
  using Random = std::function<double()>;

  // metrics may be null; health defaults to AlwaysHealthy.
  Router(std::shared_ptr<ChannelStore> store, Random random, RoutingMetrics* metrics = nullptr,
         std::shared_ptr<ChannelHealth> health = nullptr);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Replaces the snapshot from the store; on error the previous snapshot stays in use.
  absl::Status Reload();
  // Calls Reload every `period` on a background thread until Stop (failures are logged).
  void StartPeriodicReload(absl::Duration period);
  void Stop();

  // Enabled, healthy channels serving `model` whose groups are empty or contain `group`:
  // priority descending; within a priority, a half-open channel's probe first, then a weighted
  // shuffle (each next pick proportional to weight among those left), weight-0 channels last
  // as backups. Open circuits are skipped, unless every such channel is open: then they are
  // all returned in that same order (trying a maybe-dead channel beats a certain 503).
  // Auto-disabled channels are never returned. NOT_FOUND when nothing is left.
  absl::StatusOr<std::vector<Candidate>> Route(const std::string& model, const std::string& group);

  // Counts the outcome and hands it to ChannelHealth. error describes a failure for last_error;
  // when empty it is derived from http_status.
  absl::Status ReportOutcome(int64_t channel_id, Outcome outcome, absl::Duration latency,
                             int32_t http_status = 0, const std::string& error = "");

  // The channel's health as ChannelHealth sees it (CLOSED for unknown or disabled channels).
  HealthInfo ChannelHealthInfo(int64_t channel_id);

  // Admin writes validate, store, then reload so this replica sees them at once.
  absl::StatusOr<Channel> CreateChannel(Channel channel);
  absl::StatusOr<std::vector<Channel>> ListChannels();
  absl::StatusOr<Channel> SetChannelEnabled(int64_t channel_id, bool enabled);

 private:
  struct Entry {
    const Channel* channel;
    const std::string* upstream_model;
    bool probe = false;  // holds the half-open probe slot: goes first in its tier
  };
  struct Snapshot {
    std::vector<Channel> channels;
    std::unordered_map<std::string, std::vector<Entry>> by_model;
    std::unordered_map<int64_t, const Channel*> by_id;
  };

  std::shared_ptr<const Snapshot> snapshot() const;
  double Uniform();
  // Reorders [begin, end) (one priority tier) in place.
  void WeightedShuffle(std::vector<Entry>::iterator begin, std::vector<Entry>::iterator end);
  void ReloadAfterWrite();

  std::shared_ptr<ChannelStore> store_;
  Random random_;
  RoutingMetrics* metrics_;
  std::shared_ptr<ChannelHealth> health_;

  std::mutex random_mu_;
  // Serializes reloads so an older load can never overwrite a newer one.
  std::mutex reload_mu_;
  mutable std::mutex snapshot_mu_;
  std::shared_ptr<const Snapshot> snapshot_;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread reload_thread_;
};

}  // namespace routeall::routing
