// Readiness: cached dependency probes behind /readyz.
#include "gateway/readiness.h"

#include <nlohmann/json.hpp>

#include "grpc/health/v1/health.grpc.pb.h"

namespace routeall::gateway {

ReadinessProbe GrpcHealthProbe(std::shared_ptr<grpc::Channel> channel, std::chrono::milliseconds deadline) {
  auto stub = std::shared_ptr<grpc::health::v1::Health::Stub>(grpc::health::v1::Health::NewStub(channel));
  return [stub, deadline](std::string* detail) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + deadline);
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse res;
    grpc::Status st = stub->Check(&ctx, req, &res);
    if (!st.ok()) {
      *detail = "unreachable (" + std::to_string(static_cast<int>(st.error_code())) + ")";
      return false;
    }
    if (res.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
      *detail = "not serving";
      return false;
    }
    *detail = "ok";
    return true;
  };
}

Readiness::Readiness(std::vector<std::pair<std::string, ReadinessProbe>> probes, std::chrono::milliseconds cache_for,
                     std::function<std::chrono::steady_clock::time_point()> clock)
    : probes_(std::move(probes)), cache_for_(cache_for), clock_(std::move(clock)) {}

void Readiness::Refresh() {
  auto now = clock_();
  if (have_ && now - checked_ < cache_for_) return;
  nlohmann::json deps = nlohmann::json::object();
  bool all = true;
  for (const auto& [name, probe] : probes_) {
    std::string detail;
    bool ok = probe(&detail);
    all = all && ok;
    deps[name] = detail;
  }
  ready_ = all;
  body_ = nlohmann::json{{"status", all ? "ready" : "not_ready"}, {"dependencies", deps}}.dump();
  checked_ = now;
  have_ = true;
}

bool Readiness::Ready() {
  std::lock_guard<std::mutex> lock(mu_);
  Refresh();
  return ready_;
}

HttpResponse Readiness::Response() {
  std::lock_guard<std::mutex> lock(mu_);
  Refresh();
  HttpResponse res{ready_ ? http::status::ok : http::status::service_unavailable, 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = body_;
  return res;
}

}  // namespace routeall::gateway
