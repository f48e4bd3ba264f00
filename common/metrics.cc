// MetricsServer on prometheus-cpp's pull exposer.
#include "common/metrics.h"

#include <chrono>
#include <exception>

#include <prometheus/gauge.h>

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

void RegisterProcessMetrics(prometheus::Registry& registry, const std::string& service) {
  prometheus::BuildGauge()
      .Name("routeall_" + service + "_up")
      .Help("1 while this " + service + " process is serving")
      .Register(registry)
      .Add({})
      .Set(1);
  auto now = std::chrono::system_clock::now().time_since_epoch();
  prometheus::BuildGauge()
      .Name("routeall_" + service + "_start_time_seconds")
      .Help("Unix time at which this " + service + " process started")
      .Register(registry)
      .Add({})
      .Set(std::chrono::duration<double>(now).count());
}

}  // namespace routeall
