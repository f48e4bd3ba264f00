// Wires the adapter service together; the only file that knows all its components.
#include "common/service_main.h"
#include "services/adapter/adapter_service.h"

int main(int argc, char** argv) {
  return routeall::RunService({"adapter", 7103, 9103}, argc, argv,
                              [](routeall::ServiceContext& ctx) -> absl::StatusOr<routeall::ServiceParts> {
    routeall::ServiceParts parts;
    parts.services.push_back(std::make_shared<routeall::adapter::AdapterServiceImpl>());
    return parts;
  });
}
