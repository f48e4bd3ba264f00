// RunService: the shared life cycle of a service process.
#include "common/service_main.h"

#include <csignal>
#include <unistd.h>

#include "common/grpc_server.h"
#include "common/log.h"
#include "common/metrics.h"

extern char** environ;

namespace routeall {

absl::StatusOr<std::shared_ptr<PgPool>> ServiceContext::OpenDatabase(
    const std::string& schema, const std::vector<Migration>& migrations) {
  std::string url = config_.GetString("pg-url", "host=127.0.0.1 port=55432 user=postgres dbname=routeall");
  auto size = config_.GetInt("pg-pool-size", 8);
  if (!size.ok()) return size.status();
  auto pool = PgPool::Create(url, static_cast<int>(*size));
  if (!pool.ok()) return pool.status();
  int applied = 0;
  absl::Status st = ApplyMigrations(**pool, schema, migrations, &applied);
  if (!st.ok()) return st;
  LogInfo("migrations applied", {{"schema", schema}, {"applied", applied}, {"known", migrations.size()}});
  return std::shared_ptr<PgPool>(std::move(*pool));
}

int RunService(const ServiceDefaults& defaults, int argc, char** argv, const ServiceWiring& wire) {
  BlockTerminationSignals();
  SetLogService(defaults.name);
  auto config = Config::FromArgs(argc, argv, environ);
  if (!config.ok()) {
    LogError("bad configuration", {{"error", config.status().ToString()}});
    return 2;
  }
  LogLevel level = LogLevel::kInfo;
  if (!ParseLogLevel(config->GetString("log-level", "info"), &level)) {
    LogError("bad configuration", {{"error", "--log-level must be debug, info, warn or error"}});
    return 2;
  }
  SetLogLevel(level);

  auto host = config->GetString("host", "127.0.0.1");
  auto grpc_port = config->GetInt("grpc-port", defaults.grpc_port);
  auto metrics_port = config->GetInt("metrics-port", defaults.metrics_port);
  auto drain = config->GetMillis("drain-ms", std::chrono::milliseconds(10000));
  for (const absl::Status& s : {grpc_port.status(), metrics_port.status(), drain.status()}) {
    if (!s.ok()) {
      LogError("bad configuration", {{"error", s.ToString()}});
      return 2;
    }
  }

  auto registry = std::make_shared<prometheus::Registry>();
  auto metrics = MetricsServer::Start(host + ":" + std::to_string(*metrics_port), registry);
  if (!metrics.ok()) {
    LogError("cannot start metrics", {{"error", metrics.status().ToString()}});
    return 1;
  }

  RegisterProcessMetrics(*registry, defaults.name);

  ServiceContext ctx(*config, registry);
  auto parts = wire(ctx);
  if (!parts.ok()) {
    LogError("cannot start", {{"error", parts.status().ToString()}});
    return 1;
  }

  GrpcServerOptions opts;
  opts.address = host + ":" + std::to_string(*grpc_port);
  for (auto& s : parts->services) opts.services.push_back(s.get());
  auto server = GrpcServer::Start(opts);
  if (!server.ok()) {
    LogError("cannot start gRPC", {{"error", server.status().ToString()}});
    return 1;
  }
  LogInfo("serving", {{"grpc_port", (*server)->port()},
                      {"metrics_port", (*metrics)->port()},
                      {"pid", static_cast<int>(getpid())}});

  int sig = WaitForTerminationSignal();
  LogInfo("draining", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}, {"drain_ms", drain->count()}});
  (*server)->Shutdown(*drain);
  if (parts->on_shutdown) parts->on_shutdown();
  LogInfo("stopped");
  return 0;
}

}  // namespace routeall
