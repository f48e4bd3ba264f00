// Wires the HTTP edge: config, metrics, the Beast server and the public routes.
#include <csignal>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/grpc_server.h"
#include "common/log.h"
#include "common/metrics.h"
#include "gateway/http_server.h"

extern char** environ;

namespace {

using routeall::gateway::http::status;

routeall::gateway::HttpResponse Json(status s, const nlohmann::json& body) {
  routeall::gateway::HttpResponse res{s, 11};
  res.set(routeall::gateway::http::field::content_type, "application/json");
  res.body() = body.dump();
  return res;
}

int Fail(std::string_view what, const absl::Status& st) {
  routeall::LogError(what, {{"error", st.ToString()}});
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  routeall::BlockTerminationSignals();
  routeall::SetLogService("gateway");
  auto config = routeall::Config::FromArgs(argc, argv, environ);
  if (!config.ok()) return Fail("bad configuration", config.status());
  auto http_port = config->GetInt("http-port", 8080);
  auto metrics_port = config->GetInt("metrics-port", 9100);
  auto io_threads = config->GetInt("io-threads", 2);
  auto drain = config->GetMillis("drain-ms", std::chrono::milliseconds(10000));
  for (const absl::Status& s : {http_port.status(), metrics_port.status(), io_threads.status(), drain.status()}) {
    if (!s.ok()) return Fail("bad configuration", s);
  }
  std::string host = config->GetString("host", "127.0.0.1");

  auto registry = std::make_shared<prometheus::Registry>();
  auto metrics = routeall::MetricsServer::Start(host + ":" + std::to_string(*metrics_port), registry);
  if (!metrics.ok()) return Fail("cannot start metrics", metrics.status());

  routeall::RegisterProcessMetrics(*registry, "gateway");

  routeall::gateway::HttpServerOptions opts;
  opts.host = host;
  opts.port = static_cast<int>(*http_port);
  opts.io_threads = static_cast<int>(*io_threads);
  auto server = routeall::gateway::HttpServer::Start(
      opts, [](const routeall::gateway::HttpRequest& req, routeall::gateway::ResponseWriter& out) {
        if (req.target() == "/healthz" || req.target() == "/readyz") {
          out.Send(Json(status::ok, {{"status", "ok"}}));
          return;
        }
        out.Send(Json(status::not_found,
                      {{"error", {{"message", "Unknown request URL: " + std::string(req.target())},
                                  {"type", "invalid_request_error"},
                                  {"code", "unknown_url"}}}}));
      });
  if (!server.ok()) return Fail("cannot start HTTP", server.status());
  routeall::LogInfo("serving", {{"http_port", (*server)->port()},
                                {"metrics_port", (*metrics)->port()},
                                {"pid", static_cast<int>(getpid())}});
  int sig = routeall::WaitForTerminationSignal();
  routeall::LogInfo("draining", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*server)->Stop(*drain);
  routeall::LogInfo("stopped");
  return 0;
}
