// Wires the billing service together; the only file that knows all its components.
#include "common/service_main.h"
#include "services/billing/billing_service.h"

int main(int argc, char** argv) {
  return routeall::RunService({"billing", 7104, 9104}, argc, argv,
                              [](routeall::ServiceContext& ctx) -> absl::StatusOr<routeall::ServiceParts> {
    auto pg = ctx.OpenDatabase("billing", routeall::billing::Migrations());
    if (!pg.ok()) return pg.status();
    routeall::ServiceParts parts;
    parts.keep_alive.push_back(*pg);
    parts.services.push_back(std::make_shared<routeall::billing::BillingServiceImpl>());
    return parts;
  });
}
