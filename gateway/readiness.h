// /readyz: the gateway is ready when every service behind it answers its gRPC health check
// (SERVING). Liveness (/healthz) only says the process runs; readiness takes it out of a load
// balancer's rotation while a dependency is down.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "gateway/http_server.h"

namespace routeall::gateway {

// One dependency probe: true when serving; *detail says why not.
using ReadinessProbe = std::function<bool(std::string* detail)>;

// A probe of a gRPC service's standard health check, with a short deadline.
ReadinessProbe GrpcHealthProbe(std::shared_ptr<grpc::Channel> channel, std::chrono::milliseconds deadline);

class Readiness {
 public:
  // Results are cached for `cache_for` so a probe storm costs the services nothing.
  Readiness(std::vector<std::pair<std::string, ReadinessProbe>> probes, std::chrono::milliseconds cache_for,
            std::function<std::chrono::steady_clock::time_point()> clock);

  // 200 {"status":"ready",...} or 503 {"status":"not_ready","dependencies":{name: detail}}.
  HttpResponse Response();
  bool Ready();

 private:
  void Refresh();

  std::vector<std::pair<std::string, ReadinessProbe>> probes_;
  std::chrono::milliseconds cache_for_;
  std::function<std::chrono::steady_clock::time_point()> clock_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point checked_{};
  bool have_ = false;
  bool ready_ = false;
  std::string body_;
};

}  // namespace routeall::gateway
