// Wires the routing service together; the only file that knows all its components.
#include <random>

#include "common/service_main.h"
#include "services/routing/pg_channel_store.h"
#include "services/routing/router.h"
#include "services/routing/routing_metrics.h"
#include "services/routing/routing_service.h"

int main(int argc, char** argv) {
  using namespace routeall::routing;  // NOLINT(google-build-using-namespace): wiring only
  return routeall::RunService(
      {"routing", 7102, 9102}, argc, argv,
      [](routeall::ServiceContext& ctx) -> absl::StatusOr<routeall::ServiceParts> {
        auto reload = ctx.config().GetMillis("reload-ms", std::chrono::milliseconds(5000));
        if (!reload.ok()) return reload.status();
        if (reload->count() <= 0) return absl::InvalidArgumentError("--reload-ms must be positive");
        auto pg = ctx.OpenDatabase("routing", Migrations());
        if (!pg.ok()) return pg.status();
        auto store = std::make_shared<PgChannelStore>(*pg, "routing");
        auto metrics = std::make_shared<RoutingMetrics>(ctx.registry());
        auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
        auto router = std::make_shared<Router>(
            store, [rng] { return std::uniform_real_distribution<double>(0.0, 1.0)(*rng); }, metrics.get());
        if (absl::Status st = router->Reload(); !st.ok()) return st;
        router->StartPeriodicReload(absl::FromChrono(*reload));
        routeall::ServiceParts parts;
        parts.keep_alive = {*pg, store, metrics, router};
        parts.services.push_back(std::make_shared<RoutingServiceImpl>(router));
        parts.on_shutdown = [router] { router->Stop(); };
        return parts;
      });
}
