// gRPC front of the routing service: translates proto <-> domain and nothing more.
#pragma once

#include <vector>

#include "common/migrations.h"
#include "routeall/routing/v1/routing_service.grpc.pb.h"

namespace routeall::routing {

class RoutingServiceImpl final : public routeall::routing::v1::RoutingService::Service {
 public:
  RoutingServiceImpl() = default;
};

// The SQL migrations of this service, embedded at build time from migrations/.
const std::vector<routeall::Migration>& Migrations();

}  // namespace routeall::routing
