// Prometheus /metrics endpoint for a service, on its own port.
#pragma once

#include <memory>
#include <string>

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include "absl/status/statusor.h"

namespace routeall {

class MetricsServer {
 public:
  // address is "host:port"; port 0 picks a free port.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& address,
                                                              std::shared_ptr<prometheus::Registry> registry);
  int port() const { return port_; }
  prometheus::Registry& registry() { return *registry_; }

 private:
  MetricsServer(std::unique_ptr<prometheus::Exposer> exposer,
                std::shared_ptr<prometheus::Registry> registry, int port);

  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<prometheus::Registry> registry_;
  int port_;
};

// routeall_<service>_up (1 while serving) and routeall_<service>_start_time_seconds.
void RegisterProcessMetrics(prometheus::Registry& registry, const std::string& service);

}  // namespace routeall
