// Wires the routing service together; the only file that knows all its components.
#include <unistd.h>

#include <random>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/service_main.h"
#include "services/routing/adapter_prober.h"
#include "services/routing/circuit_breaker_health.h"
#include "services/routing/health_monitor.h"
#include "services/routing/pg_channel_store.h"
#include "services/routing/pg_health_store.h"
#include "services/routing/router.h"
#include "services/routing/routing_metrics.h"
#include "services/routing/routing_service.h"

namespace {

// Every duration flag is in milliseconds and must be positive.
absl::StatusOr<absl::Duration> PositiveMillis(const routeall::Config& config, const char* name, int64_t def_ms) {
  auto v = config.GetMillis(name, std::chrono::milliseconds(def_ms));
  if (!v.ok()) return v.status();
  if (v->count() <= 0) return absl::InvalidArgumentError(absl::StrCat("--", name, " must be positive"));
  return absl::FromChrono(*v);
}

std::string ReplicaName() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrCat(host, ":", getpid());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace routeall::routing;  // NOLINT(google-build-using-namespace): wiring only
  return routeall::RunService(
      {"routing", 7102, 9102}, argc, argv,
      [](routeall::ServiceContext& ctx) -> absl::StatusOr<routeall::ServiceParts> {
        const routeall::Config& cfg = ctx.config();
        auto reload = PositiveMillis(cfg, "reload-ms", 5000);
        if (!reload.ok()) return reload.status();

        CircuitOptions circuit;
        auto failures = cfg.GetInt("circuit-failures", circuit.consecutive_failures);
        auto rate_pct = cfg.GetInt("circuit-error-rate-pct", 50);
        auto min_requests = cfg.GetInt("circuit-min-requests", circuit.min_requests);
        auto window = PositiveMillis(cfg, "circuit-window-ms", 30'000);
        auto cooldown = PositiveMillis(cfg, "circuit-cooldown-ms", 10'000);
        auto max_cooldown = PositiveMillis(cfg, "circuit-max-cooldown-ms", 300'000);
        auto auto_disable = PositiveMillis(cfg, "auto-disable-after", 600'000);
        auto lease = PositiveMillis(cfg, "probe-lease-ms", 60'000);
        auto probe_interval = PositiveMillis(cfg, "probe-interval", 30'000);
        auto probe_timeout = PositiveMillis(cfg, "probe-timeout-ms", 10'000);
        auto sync = PositiveMillis(cfg, "health-sync-ms", 1'000);
        for (const absl::Status& st : {failures.status(), rate_pct.status(), min_requests.status(), window.status(),
                                       cooldown.status(), max_cooldown.status(), auto_disable.status(),
                                       lease.status(), probe_interval.status(), probe_timeout.status(),
                                       sync.status()}) {
          if (!st.ok()) return st;
        }
        circuit.consecutive_failures = static_cast<int32_t>(*failures);
        circuit.error_rate = static_cast<double>(*rate_pct) / 100.0;
        circuit.min_requests = static_cast<int32_t>(*min_requests);
        circuit.window = *window;
        circuit.cooldown = *cooldown;
        circuit.max_cooldown = *max_cooldown;
        circuit.auto_disable_after = *auto_disable;
        circuit.probe_lease = *lease;
        if (absl::Status st = ValidateCircuitOptions(circuit); !st.ok()) return st;

        auto pg = ctx.OpenDatabase("routing", Migrations());
        if (!pg.ok()) return pg.status();
        auto store = std::make_shared<PgChannelStore>(*pg, "routing");
        auto metrics = std::make_shared<RoutingMetrics>(ctx.registry());
        auto health = std::make_shared<CircuitBreakerHealth>(
            circuit, [] { return absl::Now(); }, metrics.get(), ReplicaName());
        auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
        auto router = std::make_shared<Router>(
            store, [rng] { return std::uniform_real_distribution<double>(0.0, 1.0)(*rng); }, metrics.get(),
            health);
        if (absl::Status st = router->Reload(); !st.ok()) return st;
        router->StartPeriodicReload(*reload);

        // Empty --adapter-addr turns active probes off (auto-disabled channels then wait for an admin).
        std::shared_ptr<ChannelProber> prober;
        std::string adapter_addr = cfg.GetString("adapter-addr", "127.0.0.1:7103");
        if (!adapter_addr.empty()) {
          prober = std::make_shared<AdapterProber>(
              grpc::CreateChannel(adapter_addr, grpc::InsecureChannelCredentials()));
        }
        HealthMonitorOptions monitor_options;
        monitor_options.sync_period = *sync;
        monitor_options.probe_interval = *probe_interval;
        monitor_options.probe_timeout = *probe_timeout;
        auto monitor = std::make_shared<HealthMonitor>(health, std::make_shared<PgHealthStore>(*pg, "routing"),
                                                       prober, monitor_options, metrics.get());
        if (absl::Status st = monitor->SyncOnce(); !st.ok()) return st;  // start from the shared view
        monitor->Start();

        routeall::ServiceParts parts;
        parts.keep_alive = {*pg, store, metrics, health, router, monitor};
        parts.services.push_back(std::make_shared<RoutingServiceImpl>(router));
        parts.on_shutdown = [router, monitor] {
          router->Stop();
          monitor->Stop();
        };
        return parts;
      });
}
