// Wires the HTTP edge: config, metrics, service clients, the public routes and the admin API.
#include <csignal>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "common/config.h"
#include "common/crypto.h"
#include "common/grpc_server.h"
#include "common/log.h"
#include "common/metrics.h"
#include "gateway/admin_api.h"
#include "gateway/anthropic_dialect.h"
#include "gateway/gemini_dialect.h"
#include "gateway/chat_pipeline.h"
#include "gateway/clients.h"
#include "gateway/http_server.h"
#include "gateway/openai_dialect.h"
#include "gateway/readiness.h"
#include "gateway/tokenizer_usage_counter.h"
#include "gateway/usage_publisher.h"

extern char** environ;

namespace {

using routeall::gateway::http::status;

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
  auto max_attempts = config->GetInt("max-attempts", 3);
  auto auth_ttl = config->GetMillis("auth-cache-ms", std::chrono::milliseconds(10000));
  auto max_connections = config->GetInt("max-connections", 10000);
  auto pre_auth_body = config->GetInt("pre-auth-body-bytes", 1 << 20);
  auto header_timeout = config->GetMillis("header-timeout-ms", std::chrono::milliseconds(10000));
  for (const absl::Status& s : {http_port.status(), metrics_port.status(), io_threads.status(), drain.status(),
                                max_attempts.status(), auth_ttl.status(), max_connections.status(),
                                pre_auth_body.status(), header_timeout.status()}) {
    if (!s.ok()) return Fail("bad configuration", s);
  }
  std::string host = config->GetString("host", "127.0.0.1");

  auto registry = std::make_shared<prometheus::Registry>();
  auto metrics = routeall::MetricsServer::Start(host + ":" + std::to_string(*metrics_port), registry);
  if (!metrics.ok()) return Fail("cannot start metrics", metrics.status());
  routeall::RegisterProcessMetrics(*registry, "gateway");
  auto& requests = prometheus::BuildCounter()
                       .Name("routeall_gateway_requests_total")
                       .Help("Chat requests by dialect, stream flag and HTTP status")
                       .Register(*registry);
  auto& attempts = prometheus::BuildCounter()
                       .Name("routeall_gateway_upstream_attempts_total")
                       .Help("Upstream attempts made for chat requests (more than requests means failover)")
                       .Register(*registry)
                       .Add({});

  auto auth_ch = routeall::gateway::MakeServiceChannel(config->GetString("auth-addr", "127.0.0.1:7101"));
  auto routing_ch = routeall::gateway::MakeServiceChannel(config->GetString("routing-addr", "127.0.0.1:7102"));
  auto adapter_ch = routeall::gateway::MakeServiceChannel(config->GetString("adapter-addr", "127.0.0.1:7103"));
  auto billing_ch = routeall::gateway::MakeServiceChannel(config->GetString("billing-addr", "127.0.0.1:7104"));
  auto steady = [] { return std::chrono::steady_clock::now(); };
  routeall::gateway::AuthCacheOptions auth_opts;
  auth_opts.ttl = *auth_ttl;
  routeall::gateway::GrpcAuthClient auth(auth_ch, auth_opts, steady);
  routeall::gateway::GrpcRoutingClient routing(routing_ch);
  routeall::gateway::GrpcAdapterClient adapter(adapter_ch);
  routeall::gateway::GrpcBillingClient billing(billing_ch);

  // Usage events: written ahead to the local spool (survives SIGKILL), then to Kafka without
  // waiting for acks; a spool segment is deleted once Kafka acked all of it.
  routeall::KafkaProducerOptions kopts;
  kopts.brokers = config->GetString("kafka-brokers", "127.0.0.1:19092");
  // The event is on disk already; this only bounds how long a delivery is retried in memory
  // before the spool's replayer takes it over.
  kopts.properties["message.timeout.ms"] = config->GetString("kafka-message-timeout-ms", "5000");
  auto producer = routeall::KafkaProducer::Create(kopts);
  if (!producer.ok()) return Fail("cannot create Kafka producer", producer.status());
  auto spool = routeall::Spool::Open(config->GetString("spool-dir", "routeall-spool"));
  if (!spool.ok()) return Fail("cannot open usage spool", spool.status());
  routeall::gateway::UsagePublisherOptions uopts;
  uopts.topic = config->GetString("usage-topic", "routeall.usage.v1");
  routeall::gateway::UsagePublisher publisher(std::move(*producer), std::move(*spool), uopts);
  // Usage durability metrics, refreshed every second. THE alarm is ..._lost_total > 0.
  auto counter_of = [&](const char* name, const char* help) -> prometheus::Counter& {
    return prometheus::BuildCounter().Name(name).Help(help).Register(*registry).Add({});
  };
  auto gauge_of = [&](const char* name, const char* help) -> prometheus::Gauge& {
    return prometheus::BuildGauge().Name(name).Help(help).Register(*registry).Add({});
  };
  struct UsageMetric {
    prometheus::Counter& counter;
    std::function<int64_t()> read;
    int64_t last = 0;
  };
  std::vector<UsageMetric> usage_counters = {
      {counter_of("routeall_gateway_usage_events_lost_total",
                  "Usage events lost: neither delivered nor kept (spool write and delivery both failed) or found "
                  "corrupt in the spool. Must stay 0: alarm on any increase"),
       [&] { return publisher.lost(); }},
      {counter_of("routeall_gateway_usage_events_unprotected_total",
                  "Usage events the spool could not write ahead (disk full): held in memory only until Kafka acks"),
       [&] { return publisher.unprotected(); }},
      {counter_of("routeall_gateway_usage_events_spooled_total",
                  "Usage event deliveries that failed and left the event in the spool for replay"),
       [&] { return publisher.spooled(); }},
      {counter_of("routeall_gateway_usage_events_replayed_total", "Usage events delivered by a spool replay"),
       [&] { return publisher.replayed(); }},
  };
  auto& spool_pending = gauge_of("routeall_gateway_usage_spool_pending_events",
                                 "Usage events in the spool not yet acknowledged by Kafka (segments left by a "
                                 "previous process count once read)");
  auto& spool_bytes = gauge_of("routeall_gateway_usage_spool_bytes", "Bytes of usage spool segments on disk");
  // Stopped and joined on every way out of main, before the publisher goes.
  struct Ticker {
    std::mutex mu;
    std::condition_variable cv;
    bool stop = false;
    std::thread thread;
    void Stop() {
      {
        std::lock_guard<std::mutex> lock(mu);
        stop = true;
      }
      cv.notify_all();
      if (thread.joinable()) thread.join();
    }
    ~Ticker() { Stop(); }
  } usage_metrics;
  usage_metrics.thread = std::thread([&] {
    std::unique_lock<std::mutex> lock(usage_metrics.mu);
    do {
      for (auto& m : usage_counters) {
        int64_t now = m.read();
        if (now > m.last) m.counter.Increment(static_cast<double>(now - m.last));
        m.last = std::max(m.last, now);
      }
      auto st = publisher.spool_stats();
      spool_pending.Set(static_cast<double>(st.unacked));
      spool_bytes.Set(static_cast<double>(st.bytes));
    } while (!usage_metrics.cv.wait_for(lock, std::chrono::seconds(1), [&] { return usage_metrics.stop; }));
  });

  // Counts what upstreams do not report (cut streams): required, never guessed.
  auto counter = routeall::gateway::TokenizerUsageCounter::Load(config->GetString("tokenizer-dir", ".cache/tokenizer"));
  if (!counter.ok()) return Fail("cannot load tokenizer data (run scripts/bootstrap)", counter.status());

  routeall::gateway::ChatPipelineOptions popts;
  popts.max_attempts = static_cast<int>(*max_attempts);
  auto default_max_tokens = config->GetInt("default-max-tokens", popts.default_max_output_tokens);
  auto drain_gone = config->GetMillis("client-gone-drain-ms", popts.client_gone_drain);
  if (!default_max_tokens.ok()) return Fail("bad configuration", default_max_tokens.status());
  if (!drain_gone.ok()) return Fail("bad configuration", drain_gone.status());
  popts.default_max_output_tokens = *default_max_tokens;
  popts.client_gone_drain = *drain_gone;
  routeall::gateway::ChatPipelineDeps deps{
      &auth, &routing, &adapter, &billing, &publisher, counter->get(), [] { return routeall::RandomHex(12); },
      [] { return static_cast<int64_t>(std::time(nullptr)); },
      [&](const routeall::gateway::ChatResult& r) {
        requests.Add({{"dialect", r.dialect}, {"stream", r.stream ? "true" : "false"},
                      {"status", std::to_string(r.http_status)}})
            .Increment();
        attempts.Increment(r.attempts);
      }};
  routeall::gateway::ChatPipeline pipeline(deps, popts);
  routeall::gateway::AdminApi admin(config->GetString("admin-token", ""), auth_ch, routing_ch, billing_ch);
  routeall::gateway::OpenAIDialect openai;
  routeall::gateway::AnthropicDialect anthropic;
  routeall::gateway::GeminiDialect gemini;

  namespace gw = routeall::gateway;
  const auto probe_deadline = std::chrono::milliseconds(300);
  gw::Readiness readiness({{"auth", gw::GrpcHealthProbe(auth_ch, probe_deadline)},
                           {"routing", gw::GrpcHealthProbe(routing_ch, probe_deadline)},
                           {"adapter", gw::GrpcHealthProbe(adapter_ch, probe_deadline)},
                           {"billing", gw::GrpcHealthProbe(billing_ch, probe_deadline)}},
                          std::chrono::milliseconds(1000), steady);
  // Which public dialect a path belongs to (its errors, even transport-level ones, use that
  // dialect's envelope); nullptr for paths that are not a public model API.
  auto dialect_of = [&](std::string_view path) -> const gw::PublicDialect* {
    if (path == "/v1/messages" || path == "/v1/messages/count_tokens") return &anthropic;
    std::string model, action;
    if (path == "/v1beta/models" || gw::ParseGeminiModelPath(path, &model, &action)) return &gemini;
    if (path.substr(0, 4) == "/v1/") return &openai;
    return nullptr;
  };
  gw::HttpServerOptions opts;
  opts.host = host;
  opts.port = static_cast<int>(*http_port);
  opts.io_threads = static_cast<int>(*io_threads);
  opts.max_connections = static_cast<int>(*max_connections);
  opts.pre_auth_body_bytes = static_cast<size_t>(*pre_auth_body);
  opts.header_timeout = std::chrono::duration_cast<std::chrono::seconds>(*header_timeout);
  opts.error_renderer = [&](std::string_view target, status st, std::string_view type, std::string_view message) {
    const gw::PublicDialect* d = dialect_of(target.substr(0, target.find('?')));
    routeall::codecs::ApiError err{static_cast<int>(st), std::string(type), std::string(message), "",
                                   st == status::payload_too_large                 ? "request_too_large"
                                   : st == status::request_header_fields_too_large ? "headers_too_large"
                                                                                   : "invalid_request"};
    return d != nullptr ? d->Error(err) : gw::OpenAIErrorResponse(err);
  };
  // Large bodies only from callers with a valid key (or the admin token).
  opts.header_check = [&](const gw::http::request_header<>& header) -> std::optional<gw::HttpResponse> {
    gw::HttpRequest req(header);
    std::string_view target(req.target().data(), req.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (path.substr(0, 7) == "/admin/" && admin.Authorized(req)) return std::nullopt;
    if (const gw::PublicDialect* d = dialect_of(path)) {
      auto err = pipeline.CheckKey(*d, req);
      if (!err) return std::nullopt;
      return d->Error(*err);
    }
    return gw::OpenAIErrorResponse({401, "invalid_request_error", "A large body needs valid credentials.", "",
                                    "unauthenticated"});
  };
  auto server = gw::HttpServer::Start(opts, [&](const gw::HttpRequest& req, gw::ResponseWriter& out) {
    std::string_view target(req.target().data(), req.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    const bool get = req.method() == gw::http::verb::get;
    const bool post = req.method() == gw::http::verb::post;
    if (path == "/v1/chat/completions" && post) return pipeline.Handle(openai, req, out);
    if (path == "/v1/messages" && post) return pipeline.Handle(anthropic, req, out);
    std::string model, action;
    if (post && gw::ParseGeminiModelPath(path, &model, &action)) return pipeline.Handle(gemini, req, out);
    // One model-list path, three dialects: the credential header tells which SDK asks.
    if (get && (path == "/v1/models" || path == "/v1beta/models")) {
      if (path == "/v1beta/models" || req.count("x-goog-api-key") || !gw::QueryParam(target, "key").empty()) {
        return pipeline.HandleModels(gemini, req, out);
      }
      if (req.count("anthropic-version") || req.count("x-api-key")) return pipeline.HandleModels(anthropic, req, out);
      return pipeline.HandleModels(openai, req, out);
    }
    if (path == "/v1/usage" && get) return pipeline.HandleUsage(openai, req, out);
    if (admin.Handle(req, out)) return;
    if (path == "/healthz") {
      gw::HttpResponse res{status::ok, 11};
      res.set(gw::http::field::content_type, "application/json");
      res.body() = R"({"status":"ok"})";
      out.Send(std::move(res));
      return;
    }
    if (path == "/readyz") {
      out.Send(readiness.Response());
      return;
    }
    const gw::PublicDialect* d = dialect_of(path);
    routeall::codecs::ApiError err{404, "invalid_request_error",
                                   "Unknown request URL: " + std::string(req.method_string()) + " " + std::string(path),
                                   "", "unknown_url"};
    out.Send(d != nullptr ? d->Error(err) : gw::OpenAIErrorResponse(err));
  });
  if (!server.ok()) return Fail("cannot start HTTP", server.status());
  routeall::LogInfo("serving", {{"http_port", (*server)->port()},
                                {"metrics_port", (*metrics)->port()},
                                {"pid", static_cast<int>(getpid())}});
  int sig = routeall::WaitForTerminationSignal();
  routeall::LogInfo("draining", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*server)->Stop(*drain);
  // No request is in flight any more: flush usage to Kafka, spool whatever is left.
  publisher.Shutdown(std::chrono::seconds(10));
  usage_metrics.Stop();
  routeall::LogInfo("stopped", {{"usage_delivered", publisher.delivered()}, {"usage_spooled", publisher.spooled()},
                                {"usage_lost", publisher.lost()}, {"usage_spool_pending", publisher.spool_stats().unacked}});
  return 0;
}
