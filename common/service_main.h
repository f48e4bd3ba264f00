// The start-up and shutdown sequence every service binary shares: config, logs, metrics,
// database + migrations, gRPC server with health, SIGTERM drain.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <prometheus/registry.h>

#include "absl/status/statusor.h"
#include "common/config.h"
#include "common/migrations.h"
#include "common/pg_pool.h"

namespace routeall {

// What a service's wiring function may use while it builds its components.
class ServiceContext {
 public:
  ServiceContext(const Config& config, std::shared_ptr<prometheus::Registry> registry)
      : config_(config), registry_(std::move(registry)) {}

  const Config& config() const { return config_; }
  prometheus::Registry& registry() { return *registry_; }

  // Connects to --pg-url (ROUTEALL_PG_URL) and applies this service's migrations.
  absl::StatusOr<std::shared_ptr<PgPool>> OpenDatabase(const std::string& schema,
                                                       const std::vector<Migration>& migrations);

 private:
  const Config& config_;
  std::shared_ptr<prometheus::Registry> registry_;
};

// What a service hands back: the gRPC services to serve, and the objects they use.
struct ServiceParts {
  std::vector<std::shared_ptr<grpc::Service>> services;
  // Called after the gRPC server drained, before the process exits (flush producers...).
  std::function<void()> on_shutdown;
  // Anything else that must live as long as the server.
  std::vector<std::shared_ptr<void>> keep_alive;
};

struct ServiceDefaults {
  std::string name;
  int grpc_port = 0;
  int metrics_port = 0;
};

using ServiceWiring = std::function<absl::StatusOr<ServiceParts>(ServiceContext&)>;

// Runs a service until SIGTERM/SIGINT; returns the process exit code. Logs one line
// {"msg":"serving","grpc_port":N,"metrics_port":M} once ready (tests and scripts wait on it).
int RunService(const ServiceDefaults& defaults, int argc, char** argv, const ServiceWiring& wire);

}  // namespace routeall
