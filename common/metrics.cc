// MetricsServer on prometheus-cpp's pull exposer.
#include "common/metrics.h"

#include <exception>

#include "absl/strings/str_cat.h"

namespace routeall {

MetricsServer::MetricsServer(std::unique_ptr<prometheus::Exposer> exposer,
                             std::shared_ptr<prometheus::Registry> registry, int port)
    : exposer_(std::move(exposer)), registry_(std::move(registry)), port_(port) {}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& address, std::shared_ptr<prometheus::Registry> registry) {
  try {
    auto exposer = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/1);
    exposer->RegisterCollectable(registry);
    auto ports = exposer->GetListeningPorts();
    int port = ports.empty() ? 0 : ports.front();
    return std::unique_ptr<MetricsServer>(
        new MetricsServer(std::move(exposer), std::move(registry), port));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("metrics listener on ", address, ": ", e.what()));
  }
}

}  // namespace routeall
