// Wires the auth service together; the only file that knows all its components.
#include "common/service_main.h"
#include "services/auth/auth_metrics.h"
#include "services/auth/auth_service.h"
#include "services/auth/authorizer.h"
#include "services/auth/pg_key_store.h"

int main(int argc, char** argv) {
  using namespace routeall::auth;  // NOLINT(google-build-using-namespace): wiring only
  return routeall::RunService({"auth", 7101, 9101}, argc, argv,
                              [](routeall::ServiceContext& ctx) -> absl::StatusOr<routeall::ServiceParts> {
                                auto pg = ctx.OpenDatabase("auth", Migrations());
                                if (!pg.ok()) return pg.status();
                                auto store = std::make_shared<PgKeyStore>(*pg, "auth");
                                auto metrics = std::make_shared<AuthMetrics>(ctx.registry());
                                auto authorizer = std::make_shared<Authorizer>(
                                    store, [] { return absl::Now(); }, nullptr, metrics.get());
                                routeall::ServiceParts parts;
                                parts.keep_alive = {*pg, store, metrics, authorizer};
                                parts.services.push_back(std::make_shared<AuthServiceImpl>(authorizer));
                                return parts;
                              });
}
