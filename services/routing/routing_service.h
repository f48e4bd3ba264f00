// gRPC front of the routing service: translates proto <-> domain and nothing more.
#pragma once

#include <memory>
#include <vector>

#include "common/migrations.h"
#include "routeall/routing/v1/routing_service.grpc.pb.h"
#include "services/routing/router.h"

namespace routeall::routing {

class RoutingServiceImpl final : public routeall::routing::v1::RoutingService::Service {
 public:
  explicit RoutingServiceImpl(std::shared_ptr<Router> router) : router_(std::move(router)) {}

  // RoutingService
  grpc::Status Route(grpc::ServerContext* ctx, const v1::RouteRequest* req, v1::RouteResponse* res) override;
  grpc::Status ReportOutcome(grpc::ServerContext* ctx, const v1::ReportOutcomeRequest* req,
                             v1::ReportOutcomeResponse* res) override;
  grpc::Status CreateChannel(grpc::ServerContext* ctx, const v1::CreateChannelRequest* req,
                             v1::CreateChannelResponse* res) override;
  grpc::Status ListChannels(grpc::ServerContext* ctx, const v1::ListChannelsRequest* req,
                            v1::ListChannelsResponse* res) override;
  grpc::Status SetChannelEnabled(grpc::ServerContext* ctx, const v1::SetChannelEnabledRequest* req,
                                 v1::SetChannelEnabledResponse* res) override;

 private:
  std::shared_ptr<Router> router_;
};

// The SQL migrations of this service, embedded at build time from migrations/.
const std::vector<routeall::Migration>& Migrations();

}  // namespace routeall::routing
