// Wires the auth service together; the only file that knows all its components.
#include "common/service_main.h"
#include "services/auth/auth_service.h"

int main(int argc, char** argv) {
  return routeall::RunService({"auth", 7101, 9101}, argc, argv,
                              [](routeall::ServiceContext& ctx) -> absl::StatusOr<routeall::ServiceParts> {
    auto pg = ctx.OpenDatabase("auth", routeall::auth::Migrations());
    if (!pg.ok()) return pg.status();
    routeall::ServiceParts parts;
    parts.keep_alive.push_back(*pg);
    parts.services.push_back(std::make_shared<routeall::auth::AuthServiceImpl>());
    return parts;
  });
}
