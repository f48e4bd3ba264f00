// Wires the routing service together; the only file that knows all its components.
#include "common/service_main.h"
#include "services/routing/routing_service.h"

int main(int argc, char** argv) {
  return routeall::RunService({"routing", 7102, 9102}, argc, argv,
                              [](routeall::ServiceContext& ctx) -> absl::StatusOr<routeall::ServiceParts> {
    auto pg = ctx.OpenDatabase("routing", routeall::routing::Migrations());
    if (!pg.ok()) return pg.status();
    routeall::ServiceParts parts;
    parts.keep_alive.push_back(*pg);
    parts.services.push_back(std::make_shared<routeall::routing::RoutingServiceImpl>());
    return parts;
  });
}
