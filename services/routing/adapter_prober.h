// AdapterProber: probes a channel through the adapter's Generate with a 1-token request.
#pragma once

#include <atomic>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "routeall/adapter/v1/adapter_service.grpc.pb.h"
#include "services/routing/channel_prober.h"

namespace routeall::routing {

class AdapterProber final : public ChannelProber {
 public:
  explicit AdapterProber(std::shared_ptr<grpc::Channel> channel);

  // ChannelProber
  absl::StatusOr<ProbeResult> Probe(const Channel& channel, absl::Duration timeout) override;

  // The request a probe sends (exposed for tests): the channel's first model, max_tokens 1.
  static routeall::adapter::v1::GenerateRequest MakeRequest(const Channel& channel, absl::Duration timeout,
                                                            int64_t sequence);

 private:
  std::unique_ptr<routeall::adapter::v1::AdapterService::Stub> stub_;
  std::atomic<int64_t> sequence_{0};
};

}  // namespace routeall::routing
